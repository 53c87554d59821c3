// Steelyard console: plain JavaScript over the admin REST API (/api/v1). No framework and no
// build step: the file the browser runs is the file in the repository. Pages are views of the
// URL's hash; each polls what it shows and redraws only what changed.
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
// Apps

function appsView(main) {
  const filter = h('input', { type: 'search', id: 'apps-filter', placeholder: 'name or namespace' });
  const count = h('span', { class: 'muted small', id: 'apps-count', 'aria-live': 'polite' });
  const error = h('div', { class: 'error', role: 'alert', id: 'apps-error' });
  const list = h('ul', { class: 'apps', id: 'apps-list' });
  main.append(h('h1', {}, 'Apps'),
    h('div', { class: 'toolbar' }, h('label', { for: 'apps-filter' }, 'Filter'), filter, count),
    error, list);
  let apps = [];
  const draw = () => {
    const term = filter.value.trim().toLowerCase();
    const shown = apps.filter(app => !term || (app.namespace + '/' + app.name).toLowerCase().includes(term));
    count.textContent = shown.length + ' of ' + apps.length + ' apps';
    update(list, term + JSON.stringify(shown), () => shown.map(appCard));
  };
  filter.addEventListener('input', draw);
  return poll(async () => {
    try {
      apps = (await call('GET', '/api/v1/apps')).apps || [];
      error.textContent = '';
      draw();
    } catch (e) {
      error.textContent = 'Cannot read the apps: ' + e.message;
    }
  }, 2000);
}

function appCard(app) {
  const key = app.namespace + '/' + app.name;
  const subsets = app.subsets.map(subset => h('span', {
    class: subset.endpoints.length === 0 ? 'empty' : '',
    'data-role': subset.role
  }, subset.role + ': ' + subset.endpoints.length + ' ready'));
  return h('li', { class: 'card app-card', 'data-app': key },
    h('h2', {}, h('a', { href: '#/apps/' + key, 'data-key': 'app:' + key }, key)),
    h('div', { class: 'small muted' }, 'mesh ' + splitText(app.meshSplit) + ' · gateway ' +
      (app.gatewayFollowsMesh ? 'follows mesh' : splitText(app.gatewaySplit))),
    bar('mesh', weightsOf(app, 'mesh')),
    bar('gateway', weightsOf(app, 'gateway')),
    h('div', { class: 'subsets' }, subsets),
    (app.notices || []).map(text => h('p', { class: 'notice' }, '⚠ ' + text)),
    h('div', { class: 'small muted' }, 'ACKed routes: ' + progressText(app.progress || [])));
}

// ---------------------------------------------------------------------------------------------
// App page: endpoints, the dials with a confirmation, convergence

function appView(main, ns, name) {
  const key = ns + '/' + name;
  const error = h('div', { class: 'error', role: 'alert', id: 'app-error' });
  const summary = h('div', { id: 'app-summary' });
  const subsets = h('div', { id: 'app-subsets' });
  const convergence = h('div', { id: 'convergence' });
  const form = splitForm(ns, name, () => refresh.now(), changed => { lastChange = changed; });
  let lastChange = null;
  main.append(
    h('p', { class: 'small' }, h('a', { href: '#/apps' }, '← all apps'), ' · ',
      h('a', { href: '#/flows/' + key }, 'flows of ' + key)),
    h('h1', {}, key), error,
    h('section', { class: 'panel', 'aria-labelledby': 'split-title' },
      h('h2', { id: 'split-title' }, 'Split being served'), summary),
    h('section', { class: 'panel', 'aria-labelledby': 'subsets-title' },
      h('h2', { id: 'subsets-title' }, 'Endpoints per subset'), subsets),
    h('section', { class: 'panel', 'aria-labelledby': 'change-title' },
      h('h2', { id: 'change-title' }, 'Change the split'), form.element),
    h('section', { class: 'panel', 'aria-labelledby': 'convergence-title' },
      h('h2', { id: 'convergence-title' }, 'Convergence'), convergence));
  const refresh = poll(async () => {
    let app, proxies;
    try {
      [app, proxies] = await Promise.all([call('GET', appPath(ns, name)), call('GET', '/api/v1/proxies')]);
      error.textContent = '';
    } catch (e) {
      error.textContent = 'Cannot read ' + key + ': ' + e.message;
      return;
    }
    form.current(app);
    update(summary, JSON.stringify([app.meshSplit, app.gatewaySplit, app.gatewayFollowsMesh,
      app.subsets, app.notices]), () => [
      h('p', { class: 'small', id: 'split-modes' }, 'mesh: ' + splitText(app.meshSplit) + ' · gateway: ' +
        (app.gatewayFollowsMesh ? splitText(app.gatewaySplit) + ' (follows mesh)' : splitText(app.gatewaySplit))),
      bar('mesh', weightsOf(app, 'mesh'), 'mesh-bar'),
      bar('gateway', weightsOf(app, 'gateway'), 'gateway-bar'),
      (app.notices || []).map(text => h('p', { class: 'notice' }, '⚠ ' + text))]);
    update(subsets, JSON.stringify(app.subsets), () => h('div', { class: 'table-scroll' },
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'subset'), h('th', { class: 'num' }, 'ready'),
        h('th', {}, 'endpoints'), h('th', { class: 'num' }, 'mesh set / effective'),
        h('th', { class: 'num' }, 'gateway set / effective'))),
      h('tbody', {}, app.subsets.map(s => h('tr', { 'data-role': s.role },
        h('th', {}, s.role), h('td', { class: 'num' }, String(s.endpoints.length)),
        h('td', { class: 'mono' }, s.endpoints.length ? s.endpoints.join(', ') : h('span', { class: 'empty' }, 'none')),
        h('td', { class: 'num' }, pct(s.meshWeight) + ' / ' + pct(s.effectiveMeshWeight)),
        h('td', { class: 'num' }, pct(s.gatewayWeight) + ' / ' + pct(s.effectiveGatewayWeight))))))));
    const nacks = (proxies.proxies || []).filter(p => p.lastNack && p.lastNack.type);
    update(convergence, JSON.stringify([app.progress, nacks, lastChange]),
      () => convergenceView(app.progress || [], nacks, lastChange));
  }, 1000);
  return refresh;
}

function convergenceView(progress, nacks, change) {
  const all = progress.every(p => p.proxiesAcked === p.proxiesConnected);
  const rows = progress.map(p => {
    const changed = change && change.versions[p.proxyKind] !== undefined;
    const done = p.proxiesAcked === p.proxiesConnected;
    return h('tr', { 'data-kind': p.proxyKind, id: 'convergence-' + p.proxyKind },
      h('th', {}, p.proxyKind),
      h('td', { class: 'num acked' }, p.proxiesAcked + '/' + p.proxiesConnected),
      h('td', { class: 'mono' }, p.routesVersion),
      h('td', { class: done ? 'converged' : 'pending' }, done ? 'applied' : 'waiting for ACKs'),
      h('td', { class: 'small' }, changed && change.versions[p.proxyKind] !== p.routesVersion
        ? 'routes changed again since your change' : ''));
  });
  return [
    change ? h('p', { id: 'change-status', class: all ? 'ok' : 'notice', 'aria-live': 'polite' },
      'Change applied at ' + time(change.at) + ': ' + (all
        ? 'every connected proxy ACKed the new routes.'
        : 'waiting for ACKs: ' + progressText(progress) + '.')) : null,
    h('p', { class: 'small muted' }, 'Proxies of each kind that ACKed the routes now published (ACKed / connected).'),
    h('div', { class: 'table-scroll' }, h('table', { id: 'convergence-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'kind'), h('th', { class: 'num' }, 'ACKed'),
        h('th', {}, 'routes version'), h('th', {}, 'state'), h('th', {}, ''))),
      h('tbody', {}, rows))),
    h('h3', {}, 'NACKs'),
    nackList(nacks)
  ];
}

/** Proxies whose last answer was a NACK, with what they rejected and why. */
function nackList(nacks) {
  return nacks.length === 0 ? h('p', { class: 'small muted', id: 'nacks' }, 'No proxy has rejected a configuration.')
    : h('ul', { id: 'nacks' }, nacks.map(p => h('li', { class: 'error', 'data-node': p.nodeId },
      h('strong', {}, p.nodeId), ' (' + p.kind + (p.app ? ', ' + p.app : '') + ') rejected ' + p.lastNack.type + ' ',
      h('code', {}, p.lastNack.rejectedVersion), ' at ' + time(p.lastNack.at) + ': ' + p.lastNack.message)));
}

// ---------------------------------------------------------------------------------------------
// Convergence: per proxy kind, how many connected proxies run the published routes; all NACKs

function convergencePage(main) {
  const error = h('div', { class: 'error', role: 'alert' });
  const table = h('div', { class: 'table-scroll', id: 'convergence-all' });
  const nacks = h('div', { id: 'all-nacks' });
  main.append(h('h1', {}, 'Convergence'),
    h('p', { class: 'small muted' }, 'Per proxy kind: the connected proxies that ACKed the routes now published ' +
      '(each for the names it asked for) / the proxies connected. The same counts appear on every app page.'),
    error, table, h('h2', {}, 'NACKs'), nacks);
  return poll(async () => {
    let apps, proxies;
    try {
      [apps, proxies] = await Promise.all([call('GET', '/api/v1/apps?limit=1'), call('GET', '/api/v1/proxies')]);
      error.textContent = '';
    } catch (e) {
      error.textContent = 'Cannot read the convergence: ' + e.message;
      return;
    }
    const progress = ((apps.apps || [])[0] || {}).progress || [];
    const byKind = {};
    for (const p of proxies.proxies || []) byKind[p.kind] = (byKind[p.kind] || []).concat(p.nodeId);
    update(table, JSON.stringify([progress, byKind]), () => progress.length === 0
      ? h('p', { class: 'muted' }, 'No app is published yet.')
      : h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'kind'), h('th', { class: 'num' }, 'ACKed'),
        h('th', {}, 'routes version'), h('th', {}, 'state'), h('th', {}, 'connected proxies'))),
      h('tbody', {}, progress.map(p => {
        const done = p.proxiesAcked === p.proxiesConnected;
        return h('tr', { 'data-kind': p.proxyKind }, h('th', {}, p.proxyKind),
          h('td', { class: 'num acked' }, p.proxiesAcked + '/' + p.proxiesConnected),
          h('td', { class: 'mono' }, p.routesVersion),
          h('td', { class: done ? 'converged' : 'pending' }, done ? 'applied' : 'waiting for ACKs'),
          h('td', { class: 'small mono' }, (byKind[p.proxyKind] || []).join(', ')));
      }))));
    const rejected = (proxies.proxies || []).filter(p => p.lastNack && p.lastNack.type);
    update(nacks, JSON.stringify(rejected), () => nackList(rejected));
  }, 1000);
}

/** One split (mesh or gateway): mode radios, the dial (range + number), kept in step. */
function splitFields(prefix, title) {
  const radios = ['off', 'test', 'deploy'].map(mode => h('label', {},
    h('input', { type: 'radio', name: prefix + '-mode', value: mode, id: prefix + '-mode-' + mode }), ' ' + mode));
  const dial = h('input', { type: 'range', id: prefix + '-dial', min: '0', max: '100', step: '0.01', value: '0',
    'aria-label': title + ' canary weight dial' });
  const number = h('input', { type: 'number', id: prefix + '-weight', min: '0', max: '100', step: '0.01',
    value: '0', inputmode: 'decimal' });
  const hint = h('span', { class: 'small muted', id: prefix + '-hint' });
  const fieldset = h('fieldset', { id: prefix + '-fields' }, h('legend', {}, title),
    h('div', { class: 'radios', role: 'radiogroup', 'aria-label': title + ' mode' }, radios),
    h('div', { class: 'field' }, h('label', { for: prefix + '-weight' }, 'canary weight (%)'), number, dial, hint));
  const mode = () => (fieldset.querySelector('input[type=radio]:checked') || {}).value || 'off';
  const sync = () => {
    const m = mode();
    const max = m === 'deploy' ? 50 : 100;
    dial.max = number.max = String(max);
    dial.disabled = number.disabled = m === 'off';
    hint.textContent = m === 'test' ? 'canary test: 0 to 100, steps of 0.01'
      : m === 'deploy' ? 'canary deploy: 0 to 50, steps of 0.01' : 'all traffic to main';
  };
  fieldset.addEventListener('change', sync);
  dial.addEventListener('input', () => { number.value = dial.value; });
  number.addEventListener('input', () => { if (number.value !== '') dial.value = number.value; });
  return {
    fieldset,
    mode,
    /** The weight exactly as typed, so the API judges its precision (0.01). */
    weightText: () => number.value.trim(),
    set(split) {
      const m = split && split.mode ? split.mode : 'off';
      const radio = fieldset.querySelector('input[value="' + m + '"]');
      if (radio) radio.checked = true;
      const w = split && split.canaryWeight !== undefined ? String(split.canaryWeight) : '0';
      number.value = w;
      dial.value = w;
      sync();
    }
  };
}

function splitForm(ns, name, onApplied, onChange) {
  const mesh = splitFields('mesh', 'Mesh (sidecars and gRPC clients)');
  const gateway = splitFields('gateway', 'Gateway');
  const follows = h('input', { type: 'checkbox', id: 'gateway-follows', checked: true });
  const confirmBox = h('div', { id: 'confirm', class: 'panel confirm', hidden: true, tabindex: '-1',
    role: 'region', 'aria-labelledby': 'confirm-title' });
  const result = h('div', { id: 'change-result', class: 'ok', 'aria-live': 'polite' });
  const error = h('div', { id: 'change-error', class: 'error', role: 'alert' });
  const review = h('button', { type: 'submit', class: 'primary', id: 'review' }, 'Review change');
  const reset = h('button', { type: 'button', id: 'reset' }, 'Reset to what is served');
  let served = null;
  let touched = false;
  const syncGateway = () => { gateway.fieldset.hidden = follows.checked; };
  follows.addEventListener('change', syncGateway);
  const form = h('form', { id: 'split-form', novalidate: true },
    readOnlyNote(), mesh.fieldset,
    h('div', { class: 'field' }, follows, h('label', { for: 'gateway-follows' }, 'gateway follows the mesh split')),
    gateway.fieldset, h('div', { class: 'buttons' }, review, reset), error, result, confirmBox);
  form.addEventListener('input', () => { touched = true; });
  form.addEventListener('change', () => { touched = true; });
  const load = app => {
    mesh.set(app.meshSplit);
    follows.checked = app.gatewayFollowsMesh;
    gateway.set(app.gatewaySplit);
    syncGateway();
    touched = false;
  };
  reset.addEventListener('click', () => { if (served) load(served); confirmBox.hidden = true; });

  const body = () => {
    const parts = [];
    const part = (fields, prefix) => {
      const m = fields.mode();
      const text = fields.weightText();
      if (m !== 'off' && !/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) {
        throw new Error(prefix + 'the canary weight must be a number, got "' + text + '"');
      }
      return '"mode":' + JSON.stringify(m) + (m === 'off' ? '' : ',"canaryWeight":' + text);
    };
    parts.push(part(mesh, ''));
    if (follows.checked) parts.push('"gatewayFollowsMesh":true');
    else parts.push('"gateway":{' + part(gateway, 'gateway: ') + '}');
    return '{' + parts.join(',') + '}';
  };
  const weightsFor = fields => resultingWeights(fields.mode(),
    fields.mode() === 'off' ? 0 : Number(fields.weightText()));

  form.addEventListener('submit', event => {
    event.preventDefault();
    error.textContent = '';
    result.textContent = '';
    let text;
    try { text = body(); } catch (e) { error.textContent = e.message; return; }
    const meshWeights = weightsFor(mesh);
    const gatewayWeights = follows.checked ? meshWeights : weightsFor(gateway);
    const empty = served ? served.subsets.filter(s => s.endpoints.length === 0).map(s => s.role) : [];
    const row = (label, w, id) => h('tr', { id }, h('th', {}, label),
      ROLES.map(role => h('td', { class: 'num' }, pct(round2(w[role])))));
    const apply = h('button', { type: 'button', class: 'primary', id: 'apply', 'data-needs-token': true,
      disabled: !canChange() }, 'Apply');
    const cancel = h('button', { type: 'button', id: 'cancel' }, 'Cancel');
    fill(confirmBox,
      h('h3', { id: 'confirm-title' }, 'Apply this split to ' + ns + '/' + name + '?'),
      h('div', { class: 'table-scroll' }, h('table', { id: 'confirm-weights' },
        h('thead', {}, h('tr', {}, h('th', {}, ''), ROLES.map(role => h('th', { class: 'num' }, role)))),
        h('tbody', {}, row('mesh', meshWeights, 'confirm-mesh'),
          row('gateway' + (follows.checked ? ' (follows mesh)' : ''), gatewayWeights, 'confirm-gateway')))),
      empty.length ? h('p', { class: 'notice' }, 'No ready endpoints in ' + empty.join(', ') +
        ': their share goes to main while they stay empty.') : null,
      h('p', { class: 'small muted' }, 'Request: ', h('code', { id: 'confirm-body' }, 'PUT ' + appPath(ns, name) + '/split ' + text)),
      readOnlyNote(),
      h('div', { class: 'buttons' }, apply, cancel));
    confirmBox.hidden = false;
    (canChange() ? apply : cancel).focus();
    cancel.addEventListener('click', () => { confirmBox.hidden = true; review.focus(); });
    confirmBox.onkeydown = event => { if (event.key === 'Escape') cancel.click(); };
    apply.addEventListener('click', async () => {
      apply.disabled = true;
      try {
        const app = await call('PUT', appPath(ns, name) + '/split', text);
        const versions = {};
        for (const p of app.progress || []) versions[p.proxyKind] = p.routesVersion;
        onChange({ at: new Date().toISOString(), versions });
        result.textContent = 'Applied: mesh ' + splitText(app.meshSplit) + ', gateway ' +
          (app.gatewayFollowsMesh ? 'follows mesh' : splitText(app.gatewaySplit)) + '.';
        confirmBox.hidden = true;
        load(app);
        served = app;
        onApplied();
      } catch (e) {
        error.textContent = 'Refused: ' + refusal(e);
        confirmBox.hidden = true;
      }
      review.focus();
    });
  });
  return {
    element: form,
    /** The served state; the form follows it until the user edits. */
    current(app) {
      served = app;
      if (!touched && confirmBox.hidden) load(app);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Proxies

function proxiesView(main) {
  const error = h('div', { class: 'error', role: 'alert' });
  const filter = h('input', { type: 'search', id: 'proxies-filter', placeholder: 'node id, kind or app' });
  const table = h('div', { class: 'table-scroll', id: 'proxies' });
  main.append(h('h1', {}, 'Proxies'),
    h('div', { class: 'toolbar' }, h('label', { for: 'proxies-filter' }, 'Filter'), filter), error, table);
  let proxies = [];
  const draw = () => {
    const term = filter.value.trim().toLowerCase();
    const shown = proxies.filter(p => !term || [p.nodeId, p.kind, p.app].join(' ').toLowerCase().includes(term));
    const types = ['clusters', 'endpoints', 'listeners', 'routes'];
    update(table, term + JSON.stringify(shown), () => shown.length === 0
      ? h('p', { class: 'muted' }, proxies.length ? 'No proxy matches.' : 'No proxy is connected.')
      : h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'node id'), h('th', {}, 'kind'), h('th', {}, 'app'),
        types.map(t => h('th', {}, t)), h('th', {}, 'connected'), h('th', {}, 'last NACK'))),
      h('tbody', {}, shown.map(p => h('tr', { 'data-node': p.nodeId },
        h('td', { class: 'mono' }, p.nodeId), h('td', {}, p.kind), h('td', {}, p.app || ''),
        types.map(t => h('td', { class: 'mono' }, (p.ackedVersions || {})[t] || '')),
        h('td', { class: 'small' }, time(p.connectedAt)),
        h('td', { class: 'small' }, p.lastNack && p.lastNack.type
          ? h('span', { class: 'empty' }, p.lastNack.type + ' ' + p.lastNack.rejectedVersion + ' at ' +
            time(p.lastNack.at) + ': ' + p.lastNack.message) : '—'))))));
  };
  filter.addEventListener('input', draw);
  return poll(async () => {
    try {
      proxies = (await call('GET', '/api/v1/proxies')).proxies || [];
      error.textContent = '';
      draw();
    } catch (e) {
      error.textContent = 'Cannot read the proxies: ' + e.message;
    }
  }, 2000);
}

// ---------------------------------------------------------------------------------------------
// Flows: start a canary deploy or test, the running flow as a timeline, actions, history

function flowsView(main, ns, name) {
  const picker = h('select', { id: 'flow-app' }, h('option', { value: '' }, 'choose an app'));
  main.append(h('h1', {}, 'Flows'),
    h('div', { class: 'toolbar' }, h('label', { for: 'flow-app' }, 'App'), picker));
  picker.addEventListener('change', () => { if (picker.value) location.hash = '#/flows/' + picker.value; });
  const loadApps = async () => {
    try {
      const apps = (await call('GET', '/api/v1/apps')).apps || [];
      fill(picker, h('option', { value: '' }, 'choose an app'),
        apps.map(a => h('option', { value: a.namespace + '/' + a.name,
          selected: a.namespace === ns && a.name === name }, a.namespace + '/' + a.name)));
    } catch (e) { /* the flow panel shows errors */ }
  };
  loadApps();
  if (!ns) return { stop() {} };
  const path = appPath(ns, name) + '/rollout';
  const error = h('div', { class: 'error', role: 'alert', id: 'flow-error' });
  const status = h('div', { id: 'flow-status' });
  const history = h('div', { id: 'flow-history', class: 'table-scroll' });
  const actionResult = h('div', { class: 'ok', id: 'flow-result', 'aria-live': 'polite' });
  const actionError = h('div', { class: 'error', role: 'alert', id: 'flow-action-error' });
  const confirmBox = h('div', { class: 'panel confirm', id: 'flow-confirm', hidden: true, role: 'region',
    'aria-labelledby': 'flow-confirm-title' });
  let flow = null;
  let historySignature = null;
  let historyTicks = 0;
  const refresh = () => timer.now();

  const confirmThen = (title, lines, label, danger, action) => {
    const go = h('button', { type: 'button', class: danger ? 'danger' : 'primary', id: 'flow-confirm-go',
      'data-needs-token': true, disabled: !canChange() }, label);
    const cancel = h('button', { type: 'button', id: 'flow-confirm-cancel' }, 'Cancel');
    fill(confirmBox, h('h3', { id: 'flow-confirm-title' }, title),
      lines.map(line => h('p', {}, line)), readOnlyNote(), h('div', { class: 'buttons' }, go, cancel));
    confirmBox.hidden = false;
    (canChange() ? go : cancel).focus();
    cancel.addEventListener('click', () => { confirmBox.hidden = true; });
    confirmBox.onkeydown = event => { if (event.key === 'Escape') cancel.click(); };
    go.addEventListener('click', async () => {
      go.disabled = true;
      actionError.textContent = '';
      actionResult.textContent = '';
      try {
        const answer = await action();
        actionResult.textContent = label + ': done; phase ' + (answer && answer.phase ? answer.phase : '?') + '.';
      } catch (e) {
        actionError.textContent = 'Refused: ' + refusal(e);
      }
      confirmBox.hidden = true;
      refresh();
    });
  };

  const start = startForm(ns, name, (title, lines, text) => confirmThen(title, lines, 'Start', false,
    () => call('POST', path, text)));
  const actions = h('div', { class: 'buttons', id: 'flow-actions' });
  const actionButton = (id, label, danger, title, lines, method, suffix, body) =>
    h('button', { type: 'button', id, class: danger ? 'danger' : '', 'data-needs-token': true, disabled: !canChange(),
      onclick: () => confirmThen(title, lines, label, danger, () => call(method, path + suffix, body ? body() : undefined)) },
    label);

  main.append(error,
    h('section', { class: 'panel', 'aria-labelledby': 'flow-title' },
      h('h2', { id: 'flow-title' }, 'Flow of ' + ns + '/' + name), status, actions, actionError, actionResult, confirmBox),
    h('section', { class: 'panel', 'aria-labelledby': 'start-title' },
      h('h2', { id: 'start-title' }, 'Start a flow'), start),
    h('section', { class: 'panel', 'aria-labelledby': 'history-title' },
      h('h2', { id: 'history-title' }, 'History'), history));

  const drawActions = () => {
    const active = flow && !flow.endedAt;
    const testWeight = h('input', { type: 'number', id: 'flow-test-weight', min: '0', max: '100', step: '0.01',
      value: flow && flow.weight !== undefined ? String(flow.weight) : '0' });
    const buttons = [];
    if (active && flow.kind === 'deploy') {
      buttons.push(actionButton('flow-approve', 'Approve step', false, 'Approve step ' + flow.step + ' of ' + ns + '/' + name + '?',
        ['The flow goes on to the next step (or promotes after the last).'], 'POST', '/approve'));
    }
    if (active && flow.kind === 'test') {
      buttons.push(h('label', { for: 'flow-test-weight' }, 'test weight (%)'), testWeight,
        actionButton('flow-set-weight', 'Set weight', false, 'Set the canary test weight of ' + ns + '/' + name + '?',
          ['0 ends the test.'], 'PUT', '/weight', () => '{"weight":' + (testWeight.value.trim() || 'null') + '}'),
        actionButton('flow-end', 'End test', false, 'End the canary test of ' + ns + '/' + name + '?',
          ['100 % goes back to main, then the canary is removed.'], 'POST', '/end'));
    }
    if (flow && (active || flow.phase === 'promoted')) {
      buttons.push(actionButton('flow-rollback', 'Roll back', true, 'Roll back ' + ns + '/' + name + ' to ' + flow.fromVersion + '?',
        ['The new version\'s traffic goes to the old version first; then main is restored.'], 'POST', '/rollback'));
    }
    if (active) {
      buttons.push(actionButton('flow-abort', 'Abort', true, 'Abort the flow of ' + ns + '/' + name + '?',
        ['100 % goes to main; workloads are left as they are.'], 'POST', '/abort'));
    }
    return buttons;
  };

  const timer = poll(async () => {
    try {
      flow = await call('GET', path);
      error.textContent = '';
    } catch (e) {
      if (e.status === 404) {
        flow = null;
        error.textContent = '';
      } else {
        error.textContent = 'Cannot read the flow: ' + e.message;
        return;
      }
    }
    update(status, JSON.stringify(flow), () => flow ? flowStatusView(flow)
      : h('p', { class: 'muted', id: 'flow-none' }, 'No flow has run for this app yet.'));
    update(actions, JSON.stringify([flow && flow.kind, flow && flow.phase, flow && flow.step, flow && flow.endedAt,
      flow && flow.weight, canChange()]), drawActions);
    // The history can hold thousands of entries: read it again when the flow changed, else
    // every fifth poll.
    const signature = JSON.stringify(flow);
    historyTicks = (historyTicks + 1) % 5;
    if (signature === historySignature && historyTicks !== 0) return;
    historySignature = signature;
    try {
      const entries = (await call('GET', path + '/history')).history || [];
      update(history, JSON.stringify(entries), () => historyTable(entries));
    } catch (e) {
      if (e.status !== 404) error.textContent = 'Cannot read the history: ' + e.message;
    }
  }, 1000);
  return timer;
}

function startForm(ns, name, confirm) {
  const kind = ['deploy', 'test'].map(k => h('label', {},
    h('input', { type: 'radio', name: 'start-kind', value: k, id: 'start-kind-' + k, checked: k === 'deploy' }),
    ' canary ' + k));
  const input = (id, label, props) => h('div', { class: 'field', id: id + '-field' },
    h('label', { for: id }, label), h('input', Object.assign({ id, type: 'text' }, props)));
  const deployFields = h('div', { id: 'start-deploy' },
    input('start-steps', 'steps (%)', { value: '1,10,25,50', inputmode: 'decimal' }),
    h('div', { class: 'field' }, h('label', { for: 'start-judgment' }, 'judgment'),
      h('select', { id: 'start-judgment' }, h('option', { value: 'manual' }, 'manual approval'),
        h('option', { value: 'pause' }, 'pause, then continue'))),
    input('start-pause', 'pause (ISO-8601)', { value: 'PT2M' }));
  const testFields = h('div', { id: 'start-test', hidden: true },
    input('start-weight', 'weight (%)', { value: '5', inputmode: 'decimal' }),
    input('start-replicas', 'canary replicas', { value: '1', inputmode: 'numeric' }),
    input('start-cap', 'weight cap (%)', { value: '50', inputmode: 'decimal' }),
    input('start-time-limit', 'time limit (ISO-8601)', { value: 'PT30M' }));
  const form = h('form', { id: 'start-form', novalidate: true },
    h('div', { class: 'radios', role: 'radiogroup', 'aria-label': 'kind of flow' }, kind),
    input('start-version', 'new version', { required: true, placeholder: 'v2' }),
    input('start-from', 'old version (optional)', {}),
    deployFields, testFields,
    readOnlyNote(),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'start-review' }, 'Review start')),
    h('div', { class: 'error', role: 'alert', id: 'start-error' }));
  const value = id => form.querySelector('#' + id).value.trim();
  const selected = () => form.querySelector('input[name=start-kind]:checked').value;
  const pauseField = deployFields.querySelector('#start-pause-field');
  const sync = () => {
    deployFields.hidden = selected() !== 'deploy';
    testFields.hidden = selected() !== 'test';
    pauseField.hidden = value('start-judgment') !== 'pause';
  };
  form.addEventListener('change', sync);
  sync();
  const number = (text, what) => {
    if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(what + ' must be a number, got "' + text + '"');
    return text;
  };
  form.addEventListener('submit', event => {
    event.preventDefault();
    const error = form.querySelector('#start-error');
    error.textContent = '';
    try {
      const version = value('start-version');
      if (!version) throw new Error('the new version is required');
      const fields = ['"kind":' + JSON.stringify(selected()), '"version":' + JSON.stringify(version)];
      if (value('start-from')) fields.push('"fromVersion":' + JSON.stringify(value('start-from')));
      let lines;
      if (selected() === 'deploy') {
        const steps = value('start-steps').split(',').map(s => s.trim()).filter(s => s);
        steps.forEach(s => number(s, 'a step'));
        fields.push('"steps":[' + steps.join(',') + ']');
        const judgment = value('start-judgment');
        fields.push(judgment === 'pause' ? '"judgment":{"type":"pause","pause":' + JSON.stringify(value('start-pause')) + '}'
          : '"judgment":{"type":"manual"}');
        lines = ['Canary deploy of ' + ns + '/' + name + ' to ' + version + ', judged by ' +
          (judgment === 'pause' ? 'a pause of ' + value('start-pause') : 'manual approval') + '.',
          'Weights per step (main / baseline / canary): ' + steps.map(s => {
            const w = resultingWeights('deploy', Number(s));
            return round2(w.main) + '/' + round2(w.baseline) + '/' + round2(w.canary);
          }).join(', ') + '; then main runs ' + version + ' at 100 %.'];
      } else {
        const weight = number(value('start-weight'), 'the weight');
        fields.push('"weight":' + weight, '"canaryReplicas":' + number(value('start-replicas'), 'the replicas'),
          '"weightCap":' + number(value('start-cap'), 'the cap'), '"timeLimit":' + JSON.stringify(value('start-time-limit')));
        const w = resultingWeights('test', Number(weight));
        lines = ['Canary test of ' + ns + '/' + name + ' with ' + version + ': main ' + pct(round2(w.main)) +
          ', canary ' + pct(round2(w.canary)) + ' once the canary is ready; ends after ' + value('start-time-limit') + '.'];
      }
      const text = '{' + fields.join(',') + '}';
      lines.push('Request: POST ' + appPath(ns, name) + '/rollout ' + text);
      confirm('Start this flow?', lines, text);
    } catch (e) {
      error.textContent = e.message;
    }
  });
  return form;
}

function flowStatusView(flow) {
  const active = !flow.endedAt;
  const timeline = [];
  if (flow.kind === 'deploy' && Array.isArray(flow.steps)) {
    const promoting = flow.phase.startsWith('promot') || flow.phase === 'completed';
    flow.steps.forEach((n, i) => {
      const index = i + 1;
      const state = index < flow.step || promoting ? 'done' : index === flow.step ? 'current' : 'pending';
      timeline.push(h('li', { class: state, 'data-step': String(index), 'aria-current': state === 'current' ? 'step' : null },
        'step ' + index + ': ' + n + ' %' + (state === 'done' ? ' ✓' : '')));
    });
    const promoted = flow.phase === 'completed' ? 'done' : promoting ? 'current' : 'pending';
    timeline.push(h('li', { class: promoted, 'data-step': 'promote', 'aria-current': promoted === 'current' ? 'step' : null },
      'promote: main runs ' + flow.version + (promoted === 'done' ? ' ✓' : '')));
  } else if (flow.kind === 'test') {
    timeline.push(h('li', { class: 'current' }, 'canary test at ' + flow.weight + ' % (cap ' + flow.weightCap + ' %)'));
  }
  const weights = flow.weights || {};
  const weightRow = (label, w) => h('tr', {}, h('th', {}, label),
    ROLES.map(role => h('td', { class: 'num' }, w ? pct(w[role]) : '—')));
  const workloads = flow.workloads || {};
  const known = new Set(['id', 'app', 'kind', 'phase', 'fromVersion', 'version', 'step', 'steps', 'weight', 'weightCap',
    'weights', 'workloads', 'waitingFor', 'lagging', 'verdicts']);
  const extra = Object.keys(flow).filter(k => !known.has(k));
  return [
    h('p', { id: 'flow-summary' }, h('strong', {}, 'canary ' + flow.kind), ' ' + flow.fromVersion + ' → ' + flow.version +
      ' · phase ', h('strong', { id: 'flow-phase' }, flow.phase),
      flow.kind === 'deploy' ? ' · step ' + flow.step + ' of ' + (flow.steps || []).length : ''),
    h('ol', { class: 'timeline', id: 'flow-timeline', 'aria-label': 'steps' }, timeline),
    flow.waitingFor ? h('p', { class: 'notice', id: 'flow-waiting' }, 'Waiting for: ' + flow.waitingFor) : null,
    (flow.lagging || []).length ? h('p', { class: 'notice' }, 'Lagging: ' + flow.lagging.join(', ')) : null,
    flow.driverError ? h('p', { class: 'error' }, 'Workload driver: ' + flow.driverError) : null,
    h('h3', {}, 'Weights'),
    h('div', { class: 'table-scroll' }, h('table', { id: 'flow-weights' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), ROLES.map(role => h('th', { class: 'num' }, role)))),
      h('tbody', {}, weightRow('set by the flow', weights.set), weightRow('sent to proxies', weights.sent)))),
    h('p', { class: 'small', id: 'flow-acks' }, 'split ' + (weights.split || '') + ' · ACKs: ' + (weights.acks || '—') +
      (weights.applied === true ? ' · applied' : weights.applied === false ? ' · not applied yet' : '')),
    h('h3', {}, 'Replicas'),
    h('div', { class: 'table-scroll' }, h('table', { id: 'flow-workloads' },
      h('thead', {}, h('tr', {}, h('th', {}, 'role'), h('th', {}, 'desired'), h('th', {}, 'running'),
        h('th', { class: 'num' }, 'ready'))),
      h('tbody', {}, ROLES.map(role => {
        const w = workloads[role] || {};
        return h('tr', { 'data-role': role }, h('th', {}, role),
          h('td', {}, w.desiredReplicas === null || w.desiredReplicas === undefined ? '—'
            : w.desiredReplicas + ' × ' + w.desiredVersion),
          h('td', {}, (w.replicas ?? 0) + (w.version ? ' at ' + w.version : '')),
          h('td', { class: 'num' }, String(w.readyReplicas ?? 0)));
      })))),
    h('h3', {}, 'Verdicts'),
    (flow.verdicts || []).length === 0 ? h('p', { class: 'muted small', id: 'flow-verdicts' }, 'None yet.')
      : h('ul', { id: 'flow-verdicts' }, flow.verdicts.map(v => h('li', {}, genericValue(v)))),
    h('details', {}, h('summary', {}, 'All fields'),
      h('dl', { class: 'kv', id: 'flow-details' }, extra.map(k => [h('dt', {}, k), h('dd', {}, genericValue(flow[k]))])))
  ];
}

/** Any JSON value as text: objects (a judge's evidence, say) as key: value lines. */
function genericValue(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return value.map(v => typeof v === 'object' ? JSON.stringify(v) : String(v)).join(', ');
  return h('dl', { class: 'kv' }, Object.entries(value).map(([k, v]) => [h('dt', {}, k), h('dd', {}, genericValue(v))]));
}

/** History entries as a table whose columns are every field any entry has, newest first. */
function historyTable(entries) {
  if (entries.length === 0) return h('p', { class: 'muted' }, 'No history yet.');
  const columns = [];
  for (const entry of entries) for (const k of Object.keys(entry)) if (!columns.includes(k)) columns.push(k);
  const shown = entries.slice(-200).reverse();
  return [
    entries.length > shown.length ? h('p', { class: 'small muted' }, 'The last ' + shown.length + ' of ' + entries.length + ' entries.') : null,
    h('table', { id: 'history-table' }, h('thead', {}, h('tr', {}, columns.map(c => h('th', {}, c)))),
      h('tbody', {}, shown.map(entry => h('tr', { 'data-event': entry.event || '' },
        columns.map(c => h('td', { class: c === 'at' ? 'small' : '' },
          c === 'at' ? time(entry[c]) : genericValue(entry[c])))))))
  ];
}

// ---------------------------------------------------------------------------------------------
// Routing

let current = { stop() {} };

function route() {
  current.stop();
  const main = document.getElementById('main');
  main.replaceChildren();
  delete main.dataset.signature;
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(p => p).map(decodeURIComponent);
  const page = parts[0] || 'apps';
  document.querySelectorAll('[data-nav]').forEach(a => {
    if (a.dataset.nav === page) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  if (page === 'apps' && parts.length === 3) {
    document.title = parts[1] + '/' + parts[2] + ' · Steelyard';
    current = appView(main, parts[1], parts[2]);
  } else if (page === 'convergence') {
    document.title = 'Convergence · Steelyard';
    current = convergencePage(main);
  } else if (page === 'proxies') {
    document.title = 'Proxies · Steelyard';
    current = proxiesView(main);
  } else if (page === 'flows') {
    document.title = 'Flows · Steelyard';
    current = flowsView(main, parts[1], parts[2]);
  } else {
    document.title = 'Apps · Steelyard';
    current = appsView(main);
  }
  renderAuth();
}

async function boot() {
  setupToken();
  try {
    const status = await call('GET', '/api/v1/status');
    auth.required = !!status.authRequired;
  } catch (e) {
    auth.required = true;
  }
  if (auth.required && !auth.token && !sessionStorage.getItem(ASKED_KEY)) askToken();
  window.addEventListener('hashchange', route);
  route();
  document.body.dataset.ready = 'true';
}

boot();
