// The host x task matrix (/jobs/<id>/hosts): one row per host, one column per task in order, each cell the host's
// result in that task as a colour and a letter (readable without colour). Drawn on a canvas, only the cells in view,
// so 1,000 hosts x 200 tasks scroll as smoothly as ten; a transparent scroller above it gives native scrolling and
// keyboard focus. Clicking a cell (or Enter) opens that result in the job's output. Reloaded while the job runs.
import {
  $, LETTER_STATUS, Poller, fetchMatrix, STATUSES, hideError, onThemeChange, openResult, pathJobs, readJob, readMatrix, seconds1, setUpPage,
  settled, showError, showJob, statusOf, themeColors, hostSeconds,
} from './analysis.js';
import { el } from './common.js';

const CW = 16;    // cell width and height (CSS px)
const CH = 16;
const LEFT = 220; // host names
const TOP = 150;  // task names, written upwards

const { id: jobId } = pathJobs();
const scroller = $('matrix');
const canvas = $('matrix-canvas');
const spacer = scroller.querySelector('.spacer');
const timings = { start: performance.now(), fetched: null, loaded: null, interactive: null, lastDraw: 0 };
const model = { tasks: [], hosts: [], rows: [], failed: new Set(), changed: new Set(), running: new Set() };
const cursor = { row: 0, col: 0, shown: false };
let hover = null;
let colors = themeColors();
let job = null;
let frame = null;
let etag = null; // of the last compact timeline read: polling a job that has not changed gets a 304

/** The matrix's letters (the compact timeline's) as the statuses' letters and colours. */
const LETTERS = Object.fromEntries(Object.entries(LETTER_STATUS).map(([letter, status]) => [letter, statusOf(status)]));

function refresh() {
  if (frame === null) frame = requestAnimationFrame(draw);
}

/** Which hosts failed, changed or are running somewhere: the row filters. */
function classify() {
  const failed = new Set();
  const changed = new Set();
  const running = new Set();
  for (const t of model.tasks) {
    const { cells, names } = t.hosts;
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      if (c === 'f' || c === 'u') failed.add(names[i]);
      else if (c === 'c') changed.add(names[i]);
      else if (c === 'r') running.add(names[i]);
    }
  }
  Object.assign(model, { failed, changed, running });
}

function applyFilter() {
  const text = $('host-filter').value.trim().toLowerCase();
  const only = $('row-filter').value;
  const set = only ? model[only] : null;
  model.rows = model.hosts.filter((h) => (!text || h.toLowerCase().includes(text)) && (!set || set.has(h)));
  cursor.row = Math.min(cursor.row, Math.max(0, model.rows.length - 1));
  $('summary').textContent = `${model.rows.length.toLocaleString('en-US')} of ${model.hosts.length.toLocaleString('en-US')} hosts`
    + ` × ${model.tasks.length.toLocaleString('en-US')} tasks`
    + (model.failed.size ? ` · ${model.failed.size} failed` : '') + (model.running.size ? ` · ${model.running.size} running` : '');
  refresh();
}

async function load() {
  // the job first: when it says settled, the timeline read after it is final and polling may stop
  const detail = await readJob(jobId);
  const fresh = await fetchMatrix(jobId, etag);
  if (timings.fetched === null) timings.fetched = performance.now();
  job = detail;
  showJob(detail);
  if (fresh) {
    etag = fresh.etag;
    const timeline = readMatrix(fresh.body);
    model.tasks = timeline.tasks;
    model.hosts = timeline.hosts;
    classify();
    applyFilter();
  }
  hideError();
  if (timings.loaded === null) timings.loaded = performance.now();
}

function size() {
  const dpr = window.devicePixelRatio || 1;
  const w = scroller.clientWidth;
  const h = scroller.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
  }
  return { w, h, dpr };
}

function draw() {
  frame = null;
  const began = performance.now();
  const width = LEFT + model.tasks.length * CW;
  const height = TOP + model.rows.length * CH;
  spacer.style.width = width + 'px';
  spacer.style.height = height + 'px';
  const { w, h, dpr } = size();
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.fillStyle = colors['--bg'];
  g.fillRect(0, 0, w, h);
  const sx = scroller.scrollLeft;
  const sy = scroller.scrollTop;
  const c0 = Math.floor(sx / CW);
  const c1 = Math.min(model.tasks.length, Math.ceil((sx + w - LEFT) / CW));
  const r0 = Math.floor(sy / CH);
  const r1 = Math.min(model.rows.length, Math.ceil((sy + h - TOP) / CH));
  const x = (c) => LEFT + c * CW - sx;
  const y = (r) => TOP + r * CH - sy;

  // cells
  g.font = `bold 11px ${getComputedStyle(document.body).getPropertyValue('--mono') || 'monospace'}`;
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.save();
  g.beginPath();
  g.rect(LEFT, TOP, w - LEFT, h - TOP);
  g.clip();
  for (let r = r0; r < r1; r++) {
    const host = model.rows[r];
    for (let c = c0; c < c1; c++) {
      const letter = model.tasks[c].hosts.letter(host);
      if (letter === '.') continue;
      const s = LETTERS[letter] || statusOf('');
      g.fillStyle = colors[s.color];
      g.fillRect(x(c) + 1, y(r) + 1, CW - 2, CH - 2);
      g.fillStyle = colors['--bg'];
      g.fillText(s.letter, x(c) + CW / 2, y(r) + CH / 2 + 1);
    }
  }
  for (const mark of [hover, cursor.shown ? cursor : null]) {
    if (!mark || mark.row >= model.rows.length || mark.col >= model.tasks.length) continue;
    g.strokeStyle = colors['--text'];
    g.lineWidth = mark === hover ? 1 : 2;
    g.strokeRect(x(mark.col) + 0.5, y(mark.row) + 0.5, CW - 1, CH - 1);
  }
  g.restore();

  // host names (left) and task names (top), over the scrolled cells
  g.textAlign = 'left';
  g.font = `12px ${getComputedStyle(document.body).getPropertyValue('--sans') || 'sans-serif'}`;
  g.fillStyle = colors['--panel'];
  g.fillRect(0, TOP, LEFT, h - TOP);
  g.save();
  g.beginPath();
  g.rect(0, TOP, LEFT, h - TOP);
  g.clip();
  for (let r = r0; r < r1; r++) {
    const host = model.rows[r];
    g.fillStyle = model.failed.has(host) ? colors['--bad'] : r === cursor.row && cursor.shown ? colors['--accent'] : colors['--text'];
    g.fillText(fit(g, host, LEFT - 12), 6, y(r) + CH / 2 + 1);
  }
  g.restore();
  g.fillStyle = colors['--panel'];
  g.fillRect(0, 0, w, TOP);
  g.save();
  g.beginPath();
  g.rect(LEFT, 0, w - LEFT, TOP);
  g.clip();
  let play = null;
  for (let c = c0; c < c1; c++) {
    const t = model.tasks[c];
    if (c > 0 && model.tasks[c - 1].play !== t.play) {
      g.fillStyle = colors['--border'];
      g.fillRect(x(c), 0, 1, h);
    }
    g.save();
    g.translate(x(c) + CW / 2 + 4, TOP - 4);
    g.rotate(-Math.PI / 2);
    g.fillStyle = c === cursor.col && cursor.shown ? colors['--accent'] : t.running ? colors['--accent'] : colors['--text'];
    g.fillText(fit(g, t.task || '(unnamed)', TOP - 10), 0, 0);
    g.restore();
    play = t.play;
  }
  g.restore();
  g.fillStyle = colors['--muted'];
  g.fillText(play ? fit(g, 'play: ' + play, LEFT - 12) : '', 6, TOP - 8);
  timings.lastDraw = performance.now() - began;
  if (timings.interactive === null && timings.loaded !== null) {
    timings.interactive = performance.now();
    document.body.dataset.ready = 'true';
  }
  document.body.dataset.drawn = String(Number(document.body.dataset.drawn || 0) + 1);
}

const fitCache = new Map();
/** The text, shortened with an ellipsis to fit `max` px (measured once per string and width). */
function fit(g, text, max) {
  const key = max + '\u0000' + text;
  let out = fitCache.get(key);
  if (out !== undefined) return out;
  out = text;
  if (g.measureText(out).width > max) {
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (g.measureText(text.slice(0, mid) + '…').width <= max) lo = mid;
      else hi = mid - 1;
    }
    out = text.slice(0, lo) + '…';
  }
  if (fitCache.size > 20000) fitCache.clear();
  fitCache.set(key, out);
  return out;
}

/** The cell under a point of the scroller (client coordinates), or null. */
function cellAt(clientX, clientY) {
  const box = scroller.getBoundingClientRect();
  const px = clientX - box.left;
  const py = clientY - box.top;
  if (px < LEFT || py < TOP || px > scroller.clientWidth || py > scroller.clientHeight) return null;
  const col = Math.floor((px - LEFT + scroller.scrollLeft) / CW);
  const row = Math.floor((py - TOP + scroller.scrollTop) / CH);
  if (row < 0 || col < 0 || row >= model.rows.length || col >= model.tasks.length) return null;
  return { row, col };
}

function describe(cell) {
  if (!cell) return;
  const host = model.rows[cell.row];
  const task = model.tasks[cell.col];
  const result = task.hosts.get(host);
  const info = $('cell-info');
  const parts = [host, `task ${cell.col + 1}: ${task.task}`, task.play ? `play: ${task.play}` : null];
  if (result) {
    parts.push(result.status);
    const s = hostSeconds(result);
    if (Number.isFinite(s)) parts.push(result.status === 'running' ? `running for ${seconds1(s)}` : seconds1(s));
    parts.push('Enter or click: open its output');
  } else {
    parts.push('did not run on this host');
  }
  info.textContent = parts.filter(Boolean).join(' · ');
  info.dataset.host = host;
  info.dataset.task = task.task;
  info.dataset.status = result ? result.status : '';
}

async function open(cell) {
  if (!cell) return;
  const host = model.rows[cell.row];
  const task = model.tasks[cell.col];
  if (!task.hosts.has(host)) return;
  try {
    await openResult(jobId, task, host);
  } catch (e) {
    showError(e);
  }
}

/** Moves the keyboard cursor and scrolls it into view. */
function move(dRow, dCol, absolute = false) {
  if (!model.rows.length || !model.tasks.length) return;
  cursor.shown = true;
  const row = absolute ? dRow : cursor.row + dRow;
  const col = absolute ? dCol : cursor.col + dCol;
  cursor.row = Math.max(0, Math.min(model.rows.length - 1, row));
  cursor.col = Math.max(0, Math.min(model.tasks.length - 1, col));
  const cx = cursor.col * CW;
  const cy = cursor.row * CH;
  const vw = scroller.clientWidth - LEFT;
  const vh = scroller.clientHeight - TOP;
  if (cx < scroller.scrollLeft) scroller.scrollLeft = cx;
  else if (cx + CW > scroller.scrollLeft + vw) scroller.scrollLeft = cx + CW - vw;
  if (cy < scroller.scrollTop) scroller.scrollTop = cy;
  else if (cy + CH > scroller.scrollTop + vh) scroller.scrollTop = cy + CH - vh;
  describe(cursor);
  refresh();
}

function onGridKey(e) {
  const page = Math.max(1, Math.floor((scroller.clientHeight - TOP) / CH) - 1);
  const keys = {
    ArrowUp: () => move(-1, 0), ArrowDown: () => move(1, 0), ArrowLeft: () => move(0, -1), ArrowRight: () => move(0, 1),
    PageUp: () => move(-page, 0), PageDown: () => move(page, 0),
    Home: () => move(cursor.row, 0, true), End: () => move(cursor.row, model.tasks.length - 1, true),
    Enter: () => open(cursor),
  };
  const action = keys[e.key];
  if (action) {
    e.preventDefault();
    e.stopPropagation();
    action();
  }
}

function legend() {
  const items = [];
  for (const [name, s] of Object.entries(STATUSES)) {
    const chip = el('span', 'chip chip-' + name, s.letter);
    items.push(el('span', 'legend-item'));
    items[items.length - 1].append(chip, ' ' + name);
  }
  $('legend').replaceChildren(...items);
}

function start() {
  setUpPage(jobId, 'hosts', { '/': () => $('host-filter').focus() });
  legend();
  const wanted = new URLSearchParams(location.search).get('host');
  if (wanted) $('host-filter').value = wanted;
  scroller.addEventListener('scroll', refresh);
  scroller.addEventListener('keydown', onGridKey);
  scroller.addEventListener('focus', () => { cursor.shown = true; describe(cursor); refresh(); });
  scroller.addEventListener('mousemove', (e) => {
    const cell = cellAt(e.clientX, e.clientY);
    if ((cell && hover && cell.row === hover.row && cell.col === hover.col) || (!cell && !hover)) return;
    hover = cell;
    if (cell) describe(cell);
    refresh();
  });
  scroller.addEventListener('mouseleave', () => { hover = null; refresh(); });
  scroller.addEventListener('click', (e) => {
    const cell = cellAt(e.clientX, e.clientY);
    if (!cell) return;
    Object.assign(cursor, cell, { shown: true });
    open(cell);
  });
  $('host-filter').addEventListener('input', applyFilter);
  $('row-filter').addEventListener('change', applyFilter);
  window.addEventListener('resize', refresh);
  onThemeChange(() => { colors = themeColors(); refresh(); });
  window.jobstream = {
    timings, model, cursor, cellRect: (row, col) => cellRect(row, col),
    cell: (row, col) => {
      const t = model.tasks[col];
      const r = t && t.hosts.get(model.rows[row]);
      return r ? r.status : null;
    },
  };
  new Poller(load, () => settled(job), { onError: showError }).run();
}

/** Where a cell is on screen (client coordinates of its centre), for tests that click it. */
function cellRect(row, col) {
  const box = scroller.getBoundingClientRect();
  return { x: box.left + LEFT + col * CW - scroller.scrollLeft + CW / 2, y: box.top + TOP + row * CH - scroller.scrollTop + CH / 2 };
}

start();
