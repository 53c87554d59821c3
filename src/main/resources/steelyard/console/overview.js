// Steelyard console: the Apps, Convergence and Proxies pages (lists, polled).
'use strict';

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
