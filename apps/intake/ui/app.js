// The operator page: plain DOM, no framework, no build. The page itself is public; every API call
// sends the bearer token typed into it, which stays in this tab's sessionStorage only (never in a
// cookie, so no other site can make the browser send it). Data from the API is only ever set as
// text, never parsed as HTML.

const TOKEN_KEY = 'refreshq.token';
const REFRESH_EVERY_MS = 5000;
const TYPES = ['File', 'Directory'];
const LANES = ['high', 'normal', 'low'];

const byId = (id) => document.getElementById(id);

/** An element with attributes (`class`, `data-*`, …, or `on<event>` handlers) and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const stateCell = (state) => el('td', { class: `state-${state}` }, state);

function say(message, isError = false) {
  const status = byId('status');
  status.textContent = message;
  status.className = isError ? 'error' : '';
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const data = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = new Error(data?.error?.message ?? `HTTP ${response.status}`);
    error.status = response.status;
    error.code = data?.error?.code;
    throw error;
  }
  return data;
}

function renderSubmitting(view) {
  const { pause, breaker } = view;
  const state = byId('pause-state');
  state.replaceChildren(
    pause.paused
      ? el(
          'span',
          { class: 'paused' },
          `Paused${pause.since ? ` since ${when(pause.since)}` : ''}${pause.reason ? ` — ${pause.reason}` : ''}. Intake keeps accepting.`,
        )
      : el('span', { class: 'active' }, 'Submitting.'),
  );
  state.dataset.paused = String(pause.paused);
  byId('pause-button').disabled = pause.paused;
  byId('resume-button').disabled = !pause.paused;
  byId('breaker-state').replaceChildren(
    breaker.open
      ? el('span', { class: 'open' }, `Breaker open (${breaker.code}); next probe ${when(breaker.probeAt)}`)
      : el('span', { class: 'active' }, 'Breaker closed.'),
  );
}

function renderQuota(view) {
  const rows = TYPES.map((type) => {
    const quota = view.quota[type];
    if (!quota)
      return el('tr', {}, el('td', {}, type), el('td', { colspan: 6 }, 'no worker has reported lately'));
    const hold = quota.hold ?? view.callsHold;
    return el(
      'tr',
      { 'data-type': type },
      el('td', {}, type),
      el('td', {}, quota.day.used),
      el('td', {}, quota.day.left),
      el('td', {}, quota.day.budget),
      el('td', {}, `${quota.minute.used} / ${quota.minute.budget}`),
      el('td', {}, hold ? `${hold.reason} until ${when(hold.until)}` : '—'),
      el('td', {}, quota.pressure === undefined ? '—' : quota.pressure ? 'yes' : 'no'),
    );
  });
  byId('quota-rows').replaceChildren(...rows);
  byId('quota-note').textContent = view.at
    ? `Resets ${when(view.resetsAt)} · as of ${when(view.at)}`
    : 'No worker has published figures in the last 15 s.';
  byId('backlog-rows').replaceChildren(
    ...TYPES.map((type) =>
      el(
        'tr',
        { 'data-type': type },
        el('td', {}, type),
        ...LANES.map((lane) => {
          const entry = view.backlog[type][lane];
          return el(
            'td',
            { 'data-lane': lane },
            entry.paths,
            entry.estimatedSubmitAt
              ? el('div', { class: 'note' }, `by ${when(entry.estimatedSubmitAt)}`)
              : null,
          );
        }),
      ),
    ),
  );
}

function renderRequests(list) {
  byId('request-rows').replaceChildren(
    ...list.refreshes.map((request) =>
      el(
        'tr',
        { 'data-id': request.id },
        el('td', {}, when(request.receivedAt)),
        el('td', { class: 'mono' }, request.id),
        el('td', {}, request.objectType),
        el('td', {}, request.priority),
        stateCell(request.state),
        el(
          'td',
          {},
          Object.entries(request.counts)
            .filter(([, count]) => count > 0)
            .map(([state, count]) => `${count} ${state}`)
            .join(', '),
        ),
      ),
    ),
  );
}

async function renderFailed() {
  const list = await api('GET', '/v1/refreshes?state=failed,partially_failed&limit=20');
  const details = await Promise.all(list.refreshes.map((entry) => api('GET', `/v1/refreshes/${entry.id}`)));
  const rows = [];
  for (const request of details) {
    for (const path of request.paths) {
      if (path.state !== 'failed' && path.state !== 'rejected') continue;
      // A path retried already shows where it went; its retry, if it fails, is listed on its own.
      const action = path.retriedBy
        ? el('span', { class: 'note' }, `retried as ${path.retriedBy}`)
        : el(
            'button',
            { class: 'retry', type: 'button', onclick: () => retry(request.id, path.path) },
            'Retry',
          );
      rows.push(
        el(
          'tr',
          { 'data-path': path.path },
          el('td', { class: 'path' }, path.path),
          stateCell(path.state),
          el('td', {}, path.error ? `${path.error.code} ${path.error.message}` : ''),
          el('td', { class: 'mono' }, request.id),
          el('td', {}, action),
        ),
      );
    }
  }
  byId('failed-rows').replaceChildren(
    ...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 5 }, 'No failed paths.'))]),
  );
}

function renderLookup(found) {
  const item = (label, value) => [el('dt', {}, label), el('dd', {}, value ?? '—')];
  const sent = found.lastSubmission;
  const ended = found.lastCompletion;
  byId('lookup-result').replaceChildren(
    el(
      'dl',
      { 'data-state': found.state },
      item('path', found.path),
      item('type', found.objectType),
      item('state now', found.state),
      item('covered by', found.coveredBy),
      item(
        'last submission',
        sent
          ? `${when(sent.at)} · task ${sent.taskId ?? '—'} · RequestId ${sent.upstreamRequestId ?? '—'} · request ${sent.requestId}`
          : null,
      ),
      item(
        'last completion',
        ended
          ? `${ended.state} ${when(ended.at)}${ended.taskId ? ` · task ${ended.taskId}` : ''}${ended.error ? ` · ${ended.error.code} ${ended.error.message}` : ''}`
          : null,
      ),
      item('requests', found.requests.map((request) => `${request.id} (${request.state})`).join(', ')),
    ),
  );
}

async function lookup(url) {
  try {
    renderLookup(await api('GET', `/v1/paths?url=${encodeURIComponent(url)}`));
  } catch (error) {
    byId('lookup-result').replaceChildren(el('p', { class: 'error' }, error.message));
  }
}

async function retry(id, path) {
  try {
    const queued = await api('POST', `/v1/refreshes/${id}/retry`, { paths: [path] });
    say(`Queued ${path} again as request ${queued.id}.`);
    await refresh();
  } catch (error) {
    say(`Retry failed: ${error.message}`, true);
  }
}

async function setPaused(paused) {
  try {
    const reason = byId('pause-reason').value.trim();
    const body = paused && reason ? { reason } : {};
    await api('POST', paused ? '/v1/admin/pause' : '/v1/admin/resume', body);
    say(paused ? 'Submitting paused.' : 'Submitting resumed.');
    await refresh();
  } catch (error) {
    say(`${paused ? 'Pause' : 'Resume'} failed: ${error.message}`, true);
  }
}

let refreshing;
async function refresh() {
  refreshing ??= (async () => {
    try {
      const [view, list] = await Promise.all([api('GET', '/v1/quota'), api('GET', '/v1/refreshes?limit=20')]);
      renderSubmitting(view);
      renderQuota(view);
      renderRequests(list);
      await renderFailed();
      document.body.dataset.loaded = 'true';
      if (byId('status').className === 'error') say('');
    } catch (error) {
      say(error.status === 401 ? 'Type a bearer token above.' : `Could not load: ${error.message}`, true);
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

document.addEventListener('DOMContentLoaded', () => {
  byId('token').value = sessionStorage.getItem(TOKEN_KEY) ?? '';
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = byId('token').value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    void refresh();
  });
  byId('lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void lookup(byId('lookup-url').value.trim());
  });
  byId('pause-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void setPaused(true);
  });
  byId('resume-button').addEventListener('click', () => void setPaused(false));
  void refresh();
  setInterval(() => {
    if (document.visibilityState === 'visible') void refresh();
  }, REFRESH_EVERY_MS);
});
