// Steelyard console: one app's page (endpoints, the split dials with a confirmation, convergence).
'use strict';

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
