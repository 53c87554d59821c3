// Steelyard console: routing by the URL's hash (#/apps, #/apps/NS/NAME, #/convergence,
// #/proxies, #/flows/NS/NAME); each page polls what it shows and redraws only what changed.
'use strict';

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
