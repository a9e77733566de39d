// The compare page (/jobs/<a>/compare/<b>): what differs between this run and an earlier run of the same playbook,
// per task and host (ok / changed / failed / skipped / unreachable), and the tasks and hosts found in one run only.
// Without <b> it offers the earlier runs and opens the latest. Reloaded while either run is still going.
import {
  $, Poller, VirtualRows, chip, hideError, openResult, pathJobs, readJob, setUpPage, settled, showError, showJob,
} from './analysis.js';
import { el, getJson, resultsOf, statusBadge } from './common.js';

const MAX_JOB_PAGES = 10;

const { id: jobId, other: otherId } = pathJobs();
const timings = { start: performance.now(), loaded: null };
const PAGE_SIZE = 200;
/**
 * The differences are paged by the API (200 a page): pages are read as the list scrolls to them and kept, so a
 * comparison of a million results costs only the pages looked at. `version` drops answers to an older load.
 */
const model = { count: 0, pages: new Map(), loading: new Set(), version: 0, only: null };
const jobs = { a: null, b: null };
let selected = 0;
let list = null;

/** One difference of the API (a: this run's status, b: the other run's; null: no result there) as a row. */
function readDifference(d) {
  return { task: d.task || '', play: d.play || '', ordinal: d.ordinal, host: d.host_name || '', a: d.a || null, b: d.b || null };
}

/** A task's name; a second task of the same name in the play gets its ordinal (the API counts from 1). */
function taskLabel(t) {
  return `${t.task || '(unnamed)'}${t.ordinal > 1 ? ` (#${t.ordinal})` : ''}`;
}

/** Earlier runs of the same playbook, newest first (the job list is newest first; we read a few pages). */
async function earlierRuns(job) {
  const runs = [];
  let url = '/api/v2/jobs/?page_size=200';
  for (let i = 0; url && i < MAX_JOB_PAGES && runs.length < 50; i++) {
    const body = await getJson(url);
    for (const j of resultsOf(body)) if (j.id < job.id && j.playbook && j.playbook === job.playbook) runs.push(j);
    url = body && typeof body.next === 'string' && body.next.startsWith('/') ? body.next : null;
  }
  return runs;
}

async function fillPicker(job) {
  const runs = await earlierRuns(job);
  const select = $('other');
  const options = [el('option', null, runs.length ? 'pick an earlier run…' : 'no earlier run of this playbook')];
  options[0].value = '';
  for (const r of runs) {
    const o = el('option', null, `#${r.id} · ${r.status} · ${r.created || ''}`.replace(/ · $/, ''));
    o.value = String(r.id);
    if (r.id === otherId) o.selected = true;
    options.push(o);
  }
  if (otherId && !runs.some((r) => r.id === otherId)) {
    const o = el('option', null, `#${otherId}`);
    o.value = String(otherId);
    o.selected = true;
    options.push(o);
  }
  select.replaceChildren(...options);
  return runs;
}

function diffsUrl(page) {
  const params = { page, page_size: PAGE_SIZE };
  const host = $('diff-filter').value.trim();
  if (host) params.host_name = host;
  return `/api/v2/jobs/${jobId}/compare/${otherId}/?${new URLSearchParams(params)}`;
}

function row(i) {
  const page = model.pages.get(Math.floor(i / PAGE_SIZE) + 1);
  return page ? page[i % PAGE_SIZE] : undefined;
}

async function loadPage(page, version = model.version) {
  if (model.loading.has(page)) return;
  model.loading.add(page);
  try {
    const body = await getJson(diffsUrl(page));
    if (version !== model.version) return;
    model.pages.set(page, (body.differences || []).map(readDifference));
    list.refresh();
  } catch (e) {
    showError(e);
  } finally {
    model.loading.delete(page);
  }
}

function renderRow(i) {
  const r = row(i);
  const node = el('div', 'diff' + (i === selected ? ' selected' : ''));
  node.setAttribute('role', 'row');
  node.dataset.index = String(i);
  if (!r) {
    loadPage(Math.floor(i / PAGE_SIZE) + 1);
    node.append(el('span', 'cell muted', '…'));
    return node;
  }
  const task = el('span', 'cell task', taskLabel(r));
  task.title = r.play ? `play: ${r.play}` : '';
  const b = el('span', 'cell');
  b.append(chip(r.b), ' ', r.b || 'absent');
  const a = el('span', 'cell');
  a.append(chip(r.a), ' ', r.a || 'absent');
  node.append(task, el('span', 'cell host', r.host), b, a);
  return node;
}

function showOnly(body) {
  const items = [];
  const add = (what, list, run) => {
    if (list.length) items.push(el('li', null, `${what} only in #${run}: ${list.slice(0, 20).join(', ')}${list.length > 20 ? `, … (${list.length})` : ''}`));
  };
  add('tasks', (body.tasks_only_in_a || []).map(taskLabel), jobId);
  add('hosts', body.hosts_only_in_a || [], jobId);
  add('tasks', (body.tasks_only_in_b || []).map(taskLabel), otherId);
  add('hosts', body.hosts_only_in_b || [], otherId);
  $('only').replaceChildren(...items);
  return items.length;
}

/** Reads the first page again (and the count, the one-run-only lists); other pages reload as they are shown. */
async function load() {
  const version = ++model.version;
  // the jobs first: when both say settled, the comparison read after them is final and polling may stop
  const [a, b] = await Promise.all([readJob(jobId), readJob(otherId)]);
  const body = await getJson(diffsUrl(1));
  if (version !== model.version) return;
  Object.assign(jobs, { a, b });
  showJob(a);
  $('other-status').replaceChildren(statusBadge(b.status));
  model.pages = new Map([[1, (body.differences || []).map(readDifference)]]);
  model.count = Number(body.count) || 0;
  const onlyCount = showOnly(body);
  const n = model.count;
  $('summary').textContent = n === 0 && onlyCount === 0
    ? `No differences between #${jobId} and #${otherId} (${body.tasks_compared} tasks compared).`
    : `${n.toLocaleString('en-US')} results differ between #${jobId} (this run) and #${otherId} (earlier run); `
      + `${body.tasks_compared} tasks compared.`;
  selected = Math.min(selected, Math.max(0, n - 1));
  list.setCount(n);
  hideError();
  if (timings.loaded === null) {
    timings.loaded = performance.now();
    document.body.dataset.ready = 'true';
  }
}

let filterTimer = null;
function filterChanged() {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => load().catch(showError), 300);
}

function move(d) {
  if (!model.count) return;
  selected = Math.max(0, Math.min(model.count - 1, selected + d));
  const scroller = $('diffs');
  const y = selected * list.rh;
  if (y < scroller.scrollTop) scroller.scrollTop = y;
  else if (y + list.rh > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = y + list.rh - scroller.clientHeight;
  list.refresh();
}

async function openSelected(i = selected) {
  const r = row(i);
  if (!r || !r.a) return;
  try {
    await openResult(jobId, { uuid: '', task: r.task }, r.host);
  } catch (e) {
    showError(e);
  }
}

async function start() {
  setUpPage(jobId, 'compare/', { '/': () => $('diff-filter').focus() });
  list = new VirtualRows($('diffs'), 0, renderRow, 24);
  $('diffs').addEventListener('keydown', (e) => {
    const page = Math.max(1, Math.floor($('diffs').clientHeight / list.rh) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, j: 1, k: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) move(moves[e.key]);
    else if (e.key === 'Enter') openSelected();
    else return;
    e.preventDefault();
    e.stopPropagation();
  });
  $('diffs').addEventListener('click', (e) => {
    const row = e.target.closest('.diff');
    if (!row) return;
    selected = Number(row.dataset.index);
    list.refresh();
    openSelected();
  });
  $('diff-filter').addEventListener('input', filterChanged);
  $('other').addEventListener('change', () => {
    const v = $('other').value;
    if (v) location.assign(`/jobs/${jobId}/compare/${v}`);
  });
  window.jobstream = { timings, model };
  try {
    const a = await readJob(jobId);
    showJob(a);
    const runs = await fillPicker(a);
    if (!otherId) {
      // the question is nearly always "what changed since last time": open the latest earlier run
      if (runs.length) location.replace(`/jobs/${jobId}/compare/${runs[0].id}`);
      return;
    }
    $('head-other').textContent = `#${otherId} (earlier run)`;
    $('head-this').textContent = `#${jobId} (this run)`;
  } catch (e) {
    showError(e);
    return;
  }
  new Poller(load, () => settled(jobs.a) && settled(jobs.b), { onError: showError }).run();
}

start();
