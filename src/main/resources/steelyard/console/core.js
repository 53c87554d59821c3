// Steelyard console, shared by the pages: building elements, REST calls, polling, the admin
// token, and how splits are drawn. Plain JavaScript, no framework and no build step: the files
// the browser runs are the files in the repository (index.html loads them in order).
'use strict';

const ROLES = ['main', 'baseline', 'canary'];
const TOKEN_KEY = 'steelyard.adminToken';
const ASKED_KEY = 'steelyard.tokenAsked';
const auth = { required: false, token: sessionStorage.getItem(TOKEN_KEY) || '' };

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Builds an element; text goes in as text, never as HTML. */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'value') el.value = value;
    else if (key === 'checked' || key === 'disabled') el[key] = true;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/**
 * Replaces a container's children when what they show changed; focus stays on the element
 * with the same data-key, so a poll does not throw a keyboard user out of the list.
 */
function update(container, signature, build) {
  if (container.dataset.signature === signature) return;
  container.dataset.signature = signature;
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : null;
  fill(container, build());
  if (key) {
    const again = container.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (again) again.focus();
  }
}

/** Sets a container's children from nodes and (nested) arrays of nodes; nulls are skipped. */
function fill(container, ...children) {
  container.replaceChildren(...children.flat(Infinity).filter(c => c !== null && c !== undefined && c !== false));
}

function pct(value) {
  const n = Number(value) || 0;
  return (Math.round(n * 100) / 100).toString() + ' %';
}

function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleTimeString([], { hour12: false });
}

function appPath(ns, name) {
  return '/api/v1/apps/' + encodeURIComponent(ns) + '/' + encodeURIComponent(name);
}

/** A REST call; an answer other than 2xx throws with the API's own error text. */
async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && auth.token) headers.authorization = 'Bearer ' + auth.token;
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: 'no-store' });
  } catch (e) {
    throw Object.assign(new Error('the server cannot be reached (' + e.message + ')'), { status: 0 });
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!response.ok) {
    const message = data && data.error ? data.error : response.status + ' ' + text;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return data;
}

/** What a refused change shows: the status and the API's message as it came. */
function refusal(error) {
  const status = error.status ? 'HTTP ' + error.status + ': ' : '';
  let hint = '';
  if (error.status === 401) {
    hint = auth.token ? ' (the token was refused; enter it again)' : ' (enter the admin token)';
    forgetToken();
  }
  return status + error.message + hint;
}

/** Runs {@code fn} now and again {@code ms} after each run ends, until stopped. */
function poll(fn, ms) {
  let stopped = false;
  let timer = null;
  const run = async () => {
    if (stopped) return;
    try { await fn(); } catch (e) { console.warn(e); }
    if (!stopped) timer = setTimeout(run, ms);
  };
  run();
  return {
    stop() { stopped = true; clearTimeout(timer); },
    now() { clearTimeout(timer); run(); }
  };
}

function canChange() {
  return !auth.required || auth.token !== '';
}

// ---------------------------------------------------------------------------------------------
// The admin token: asked for once per tab when the server has one, kept in sessionStorage only.

function renderAuth() {
  const box = document.getElementById('auth');
  let children;
  if (!auth.required) {
    children = [h('span', { class: 'small', id: 'auth-state' }, 'no admin token on this server')];
  } else if (auth.token) {
    children = [h('span', { class: 'small', id: 'auth-state' }, 'admin token set for this tab'),
      h('button', { type: 'button', id: 'token-forget', onclick: () => { forgetToken(); } },
        'Forget token')];
  } else {
    children = [h('span', { class: 'small', id: 'auth-state' }, 'read-only (no admin token)'),
      h('button', { type: 'button', id: 'token-ask', onclick: () => askToken() }, 'Enter token')];
  }
  box.replaceChildren(...children);
  document.querySelectorAll('[data-needs-token]').forEach(el => { el.disabled = !canChange(); });
  document.querySelectorAll('.read-only-note').forEach(el => { el.hidden = canChange(); });
}

function askToken() {
  const panel = document.getElementById('token-panel');
  panel.hidden = false;
  document.getElementById('token-input').focus();
}

function forgetToken() {
  auth.token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  renderAuth();
}

function setupToken() {
  const panel = document.getElementById('token-panel');
  document.getElementById('token-form').addEventListener('submit', event => {
    event.preventDefault();
    const value = document.getElementById('token-input').value.trim();
    document.getElementById('token-input').value = '';
    if (value) {
      auth.token = value;
      sessionStorage.setItem(TOKEN_KEY, value);
    }
    sessionStorage.setItem(ASKED_KEY, '1');
    panel.hidden = true;
    renderAuth();
  });
  document.getElementById('token-skip').addEventListener('click', () => {
    sessionStorage.setItem(ASKED_KEY, '1');
    panel.hidden = true;
    renderAuth();
  });
}

/** A note shown next to change controls while the page is read-only. */
function readOnlyNote() {
  return h('p', { class: 'notice read-only-note', hidden: canChange() },
    'Read-only: this server needs its admin token for changes. ',
    h('button', { type: 'button', onclick: () => askToken() }, 'Enter token'));
}

// ---------------------------------------------------------------------------------------------
// Splits: bars and the weights a mode and n give (README: off, test 100-n/0/n, deploy 100-2n/n/n)

function resultingWeights(mode, n) {
  if (mode === 'test') return { main: 100 - n, baseline: 0, canary: n };
  if (mode === 'deploy') return { main: 100 - 2 * n, baseline: n, canary: n };
  if (mode === 'rollback') return { main: 100 - n, baseline: n, canary: 0 };
  return { main: 100, baseline: 0, canary: 0 };
}

function round2(n) {
  return Math.round(n * 100) / 100;
}

function bar(label, weights, id) {
  const described = ROLES.map(role => role + ' ' + pct(weights[role])).join(', ');
  const segments = ROLES.map(role => {
    const seg = h('span', { class: 'seg ' + role });
    seg.style.width = Math.max(0, Number(weights[role]) || 0) + '%';
    return seg;
  });
  return h('div', { class: 'bar-row', id },
    h('span', { class: 'small' }, label),
    h('div', { class: 'bar', role: 'img', 'aria-label': label + ': ' + described }, segments),
    h('span', { class: 'legend' }, ROLES.map(role => h('span', { class: 'legend-item' },
      h('span', { class: 'swatch ' + role }), role + ' ' + pct(weights[role])))));
}

function weightsOf(app, which) {
  const out = {};
  for (const subset of app.subsets) {
    out[subset.role] = which === 'mesh' ? subset.effectiveMeshWeight : subset.effectiveGatewayWeight;
  }
  return out;
}

function splitText(split) {
  if (!split || !split.mode || split.mode === 'off') return 'off';
  return split.mode + ' ' + (split.canaryWeight ?? 0);
}

function progressText(progress) {
  return progress.map(p => p.proxyKind + ' ' + p.proxiesAcked + '/' + p.proxiesConnected).join(' · ');
}

// ---------------------------------------------------------------------------------------------
// Generic values (fields the console does not know yet show as they come)

/** Any JSON value as text: objects (a judge's evidence, say) as key: value lines. */
function genericValue(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return value.map(v => typeof v === 'object' ? JSON.stringify(v) : String(v)).join(', ');
  return h('dl', { class: 'kv' }, Object.entries(value).map(([k, v]) => [h('dt', {}, k), h('dd', {}, genericValue(v))]));
}
