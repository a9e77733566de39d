// The jobs list page (/): the latest 50 jobs, refreshed every 2 s and on websocket job messages.
import { Socket, el, formatDateTime, getJson, resultsOf, showConnection, statusBadge } from './common.js';

const REFRESH_MS = 2000;
const body = document.querySelector('#jobs tbody');
let refreshing = false;
let again = false;

async function refresh() {
  if (refreshing) {
    again = true; // a message arrived mid-refresh: run once more afterwards rather than in parallel
    return;
  }
  refreshing = true;
  try {
    const jobs = resultsOf(await getJson('/api/v2/jobs/?page_size=50'));
    body.replaceChildren(...jobs.map(row));
    document.getElementById('empty').hidden = jobs.length > 0;
    document.getElementById('error').hidden = true;
  } catch (e) {
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
  tr.appendChild(el('td', 'time', formatDateTime(job.created)));
  // stored so far, and of how many once the emitter's EOF told the total
  const total = Number.isFinite(job.final_counter) ? ` / ${job.final_counter}` : '';
  tr.appendChild(el('td', 'num', `${count(job.stored_events)}${total}`));
  tr.appendChild(el('td', 'flag', job.event_processing_finished ? 'yes' : 'no'));
  tr.appendChild(el('td', 'num', Number.isFinite(job.last_lag_ms) ? (job.last_lag_ms / 1000).toFixed(3) + ' s' : '—'));
  return tr;
}

function count(n) {
  return Number.isFinite(n) ? String(n) : '—';
}

/** A status change is shown at once; anything else (summary, unknown job) triggers a refresh. */
function onMessage(m) {
  if (m.group_name !== 'jobs') return;
  const tr = body.querySelector(`tr[data-job-id="${Number(m.unified_job_id)}"]`);
  if (tr && m.status) tr.querySelector('td.status').replaceChildren(statusBadge(m.status));
  else refresh();
}

new Socket({ groups: { jobs: ['status_changed', 'summary'] }, onMessage, onState: showConnection }).start();
refresh();
setInterval(refresh, REFRESH_MS);
