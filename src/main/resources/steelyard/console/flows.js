// Steelyard console: the Flows page (start a canary deploy or test, the flow as a timeline,
// its actions, the history).
'use strict';

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
        h('option', { value: 'pause' }, 'pause, then continue'),
        h('option', { value: 'automatic' }, 'automatic (baseline against canary)'))),
    input('start-pause', 'pause (ISO-8601)', { value: 'PT2M' }),
    input('start-window', 'analysis window (ISO-8601)', { value: 'PT5M' }),
    h('div', { class: 'field', id: 'start-analysis-field' },
      h('label', { for: 'start-analysis' }, 'analysis (JSON, optional: errorAlpha, minRequests, metrics, ...)'),
      h('textarea', { id: 'start-analysis', rows: 4, spellcheck: 'false' })));
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
    const automatic = value('start-judgment') === 'automatic';
    deployFields.querySelector('#start-window-field').hidden = !automatic;
    deployFields.querySelector('#start-analysis-field').hidden = !automatic;
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
        let analysis = '';
        if (judgment === 'automatic' && value('start-analysis')) {
          try {
            analysis = ',"analysis":' + JSON.stringify(JSON.parse(value('start-analysis')));
          } catch (e) {
            throw new Error('the analysis is not JSON: ' + e.message);
          }
        }
        fields.push(judgment === 'pause' ? '"judgment":{"type":"pause","pause":' + JSON.stringify(value('start-pause')) + '}'
          : judgment === 'automatic' ? '"judgment":{"type":"automatic","window":' + JSON.stringify(value('start-window')) + analysis + '}'
          : '"judgment":{"type":"manual"}');
        lines = ['Canary deploy of ' + ns + '/' + name + ' to ' + version + ', judged by ' +
          (judgment === 'pause' ? 'a pause of ' + value('start-pause')
            : judgment === 'automatic' ? 'the automatic judge over ' + value('start-window') + ' per step'
            : 'manual approval') + '.',
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
    'weights', 'workloads', 'waitingFor', 'lagging', 'verdicts', 'lastEvidence']);
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
    flow.lastEvidence ? evidenceView(flow.lastEvidence) : null,
    h('details', {}, h('summary', {}, 'All fields'),
      h('dl', { class: 'kv', id: 'flow-details' }, extra.map(k => [h('dt', {}, k), h('dd', {}, genericValue(flow[k]))])))
  ];
}

/** The newest automatic verdict's evidence: window, error counts, each metric, the score. */
function evidenceView(evidence) {
  const errors = evidence.errors;
  const metrics = evidence.metrics;
  const fixed = v => typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : genericValue(v);
  return h('div', { id: 'flow-evidence' },
    h('h3', {}, 'Evidence of the newest verdict'),
    h('p', { class: 'small' }, 'window ' + time(evidence.from) + ' – ' + time(evidence.to) +
      ' (routes ACKed ' + time(evidence.acked) + ')' +
      ((evidence.reporters || []).length ? ' · reported by ' + evidence.reporters.join(', ') : '')),
    errors ? h('p', { class: 'small', id: 'flow-evidence-errors' }, 'errors: canary ' + errors.canaryErrors + '/' +
      errors.canaryRequests + ', baseline ' + errors.baselineErrors + '/' + errors.baselineRequests +
      ', always-valid p ' + Number(errors.alwaysValidP).toPrecision(3) + ' (alpha ' + errors.alpha + '): ' +
      errors.outcome) : null,
    metrics ? h('div', { class: 'table-scroll' }, h('table', { id: 'flow-evidence-metrics' },
      h('thead', {}, h('tr', {}, ['metric', 'class', 'baseline median', 'canary median', 'samples'].map(c => h('th', {}, c)))),
      h('tbody', {}, (metrics.metrics || []).map(m => h('tr', {}, h('th', {}, m.name), h('td', {}, m.classification),
        h('td', { class: 'num' }, fixed(m.baseline && m.baseline.median)),
        h('td', { class: 'num' }, fixed(m.canary && m.canary.median)),
        h('td', { class: 'num' }, String(m.canary ? m.canary.count : 0))))))) : null,
    metrics ? h('p', { class: 'small' }, 'score ' + fixed(metrics.score) + ': ' + metrics.outcome) : null);
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
