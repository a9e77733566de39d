// The jobs list page (/): newest first, a page at a time, filtered by status; refreshed every 2 s, and a status
// change from the websocket's `jobs` group shows at once. The page and filter live in the URL (?status=&page=).
import {
  FINAL_STATUSES, Socket, el, formatDateTime, formatDuration, getJson, jobSeconds, resultsOf, showConnection,
  statusBadge, toggleTheme,
} from './common.js';

const PAGE_SIZE = 25;
const REFRESH_MS = 2000;
const body = document.querySelector('#jobs tbody');
const params = new URLSearchParams(location.search);
const view = { page: Math.max(1, Number(params.get('page')) || 1), status: params.get('status') || '', count: null };
let refreshing = false;
let again = false;
let shown = [];

function listUrl() {
  const q = new URLSearchParams({ page: view.page, page_size: PAGE_SIZE, order_by: '-id' });
  if (view.status) q.set('status__in', view.status);
  return `/api/v2/jobs/?${q}`;
}

async function refresh() {
  if (refreshing) {
    again = true; // a message arrived mid-refresh: run once more afterwards rather than in parallel
    return;
  }
  refreshing = true;
  try {
    const page = await getJson(listUrl());
    shown = resultsOf(page);
    view.count = Number.isFinite(page.count) ? page.count : null;
    body.replaceChildren(...shown.map(row));
    document.getElementById('empty').hidden = shown.length > 0;
    document.getElementById('error').hidden = true;
    showPager();
  } catch (e) {
    if (view.page > 1 && /HTTP 404/.test(String(e.message))) {
      go(1, view.status); // the page emptied (jobs were deleted or the filter shrank)
      return;
    }
    const banner = document.getElementById('error');
    banner.textContent = `Cannot load jobs: ${e.message || e}`;
    banner.hidden = false;
  } finally {
    refreshing = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

function showPager() {
  const pages = view.count === null ? null : Math.max(1, Math.ceil(view.count / PAGE_SIZE));
  document.getElementById('page-info').textContent =
    pages === null ? `page ${view.page}` : `page ${view.page} of ${pages} · ${view.count} jobs`;
  document.getElementById('prev').disabled = view.page <= 1;
  document.getElementById('next').disabled = pages !== null ? view.page >= pages : shown.length < PAGE_SIZE;
}

function go(page, status) {
  view.page = page;
  view.status = status;
  const q = new URLSearchParams();
  if (status) q.set('status', status);
  if (page > 1) q.set('page', page);
  history.replaceState(null, '', q.toString() ? `/?${q}` : '/');
  refresh();
}

function row(job) {
  const tr = el('tr');
  tr.dataset.jobId = String(job.id);
  const link = (text) => {
    const a = el('a', null, text);
    a.href = `/jobs/${encodeURIComponent(job.id)}`;
    return a;
  };
  tr.appendChild(el('td', 'num')).appendChild(link(job.id));
  tr.appendChild(el('td', 'name')).appendChild(link(job.name || `Job ${job.id}`));
  tr.appendChild(el('td', 'status')).appendChild(statusBadge(job.status));
  tr.appendChild(el('td', 'time', formatDateTime(job.started || job.created)));
  // stored so far, and of how many once the emitter's EOF told the total
  const total = Number.isFinite(job.final_counter) ? ` / ${job.final_counter}` : '';
  tr.appendChild(el('td', 'num', `${count(job.stored_events)}${total}`));
  tr.appendChild(el('td', 'num duration', formatDuration(jobSeconds(job))));
  tr.appendChild(el('td', 'num', Number.isFinite(job.last_lag_ms) ? (job.last_lag_ms / 1000).toFixed(3) + ' s' : '—'));
  tr.job = job;
  return tr;
}

function count(n) {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : '—';
}

/** A status change is shown at once; anything else (summary, unknown job) triggers a refresh. */
function onMessage(m) {
  if (m.group_name !== 'jobs') return;
  const tr = body.querySelector(`tr[data-job-id="${Number(m.unified_job_id)}"]`);
  if (tr && m.status) {
    tr.querySelector('td.status').replaceChildren(statusBadge(m.status));
    if (FINAL_STATUSES.has(m.status)) refresh(); // duration and counts settle
  } else {
    refresh();
  }
}

/** Running jobs' durations tick between refreshes. */
function tick() {
  for (const tr of body.children) {
    if (tr.job && !FINAL_STATUSES.has(tr.job.status)) {
      tr.querySelector('td.duration').textContent = formatDuration(jobSeconds(tr.job));
    }
  }
}

const select = document.getElementById('status-filter');
select.value = view.status;
select.addEventListener('change', () => go(1, select.value));
document.getElementById('prev').addEventListener('click', () => go(Math.max(1, view.page - 1), view.status));
document.getElementById('next').addEventListener('click', () => go(view.page + 1, view.status));
document.getElementById('theme').addEventListener('click', toggleTheme);
document.addEventListener('keydown', (e) => {
  if (e.target.closest && e.target.closest('input, select, textarea')) return;
  if (e.key === 't') toggleTheme();
  if (e.key === 'ArrowLeft' && view.page > 1) go(view.page - 1, view.status);
  if (e.key === 'ArrowRight' && !document.getElementById('next').disabled) go(view.page + 1, view.status);
});

new Socket({ groups: { jobs: ['status_changed', 'summary'] }, onMessage, onState: showConnection }).start();
refresh();
setInterval(refresh, REFRESH_MS);
setInterval(tick, 1000);
