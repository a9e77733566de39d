// The lag gauge of AWX's debug.js (debugging guide, "Quick Debugging"): lag = now - created for each
// websocket event; avg, stdev and max over the last 1024 events; and the saved maxima. debug.js keeps, for
// each of the three numbers, the whole (avg, stdev, max) triple seen when that number peaked; so do we.
// Differences, on purpose: lag is kept in milliseconds (debug.js rounds to whole seconds), and an all-zero
// window gives avg 0 and stdev 0 (debug.js turns a zero total into 1).

import { getJson } from './common.js';

/** The gauge turns red when the average lag of its window reaches this (ms); then it asks the node why. */
export const RED_MS = 2000;
/** How often a red gauge asks the node again (ms). */
const ASK_EVERY_MS = 10000;

const AVG = 0;
const STDEV = 1;
const MAX = 2;

export class LagWindow {
  constructor(size = 1024) {
    this.size = size;
    this.values = new Float64Array(size);
    this.count = 0;       // values in the window
    this.pushed = 0;      // values ever pushed (the sequence number of the next one)
    this.sum = 0;
    this.sumSquares = 0;
    this.maxQueue = [];   // [sequence, value] pairs with decreasing values: the window's max is at the front
    this.saved = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  }

  /** Adds one lag in ms and returns the current [avg, stdev, max]; O(1) per event. */
  record(lagMs) {
    const seq = this.pushed++;
    const slot = seq % this.size;
    if (this.count === this.size) {
      const old = this.values[slot];
      this.sum -= old;
      this.sumSquares -= old * old;
    } else {
      this.count++;
    }
    this.values[slot] = lagMs;
    this.sum += lagMs;
    this.sumSquares += lagMs * lagMs;
    // running sums drift after many subtractions; recompute them once per window
    if (slot === this.size - 1) this.resum();
    while (this.maxQueue.length && this.maxQueue[this.maxQueue.length - 1][1] <= lagMs) this.maxQueue.pop();
    this.maxQueue.push([seq, lagMs]);
    while (this.maxQueue[0][0] <= seq - this.size) this.maxQueue.shift();
    const current = this.stats();
    for (const i of [AVG, STDEV, MAX]) {
      if (current[i] > this.saved[i][i]) this.saved[i] = current;
    }
    return current;
  }

  resum() {
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < this.count; i++) {
      sum += this.values[i];
      squares += this.values[i] * this.values[i];
    }
    this.sum = sum;
    this.sumSquares = squares;
  }

  /** [avg, stdev, max] of the window, in ms (population stdev, as debug.js). */
  stats() {
    if (this.count === 0) return [0, 0, 0];
    const avg = this.sum / this.count;
    const variance = Math.max(0, this.sumSquares / this.count - avg * avg);
    return [avg, Math.sqrt(variance), this.maxQueue[0][1]];
  }

  /** debug.js's MAX AVERAGE, MAX STDEV and MAX MAX rows: the triple seen when each one peaked. */
  maxima() {
    return this.saved.map((triple) => triple.slice());
  }
}

/** Events per second over the last few seconds, counted in 250 ms buckets. */
export class RateMeter {
  constructor(windowMs = 5000, bucketMs = 250) {
    this.windowMs = windowMs;
    this.bucketMs = bucketMs;
    this.buckets = new Map();
    this.firstAt = null;
  }

  mark(atMs) {
    if (this.firstAt === null) this.firstAt = atMs;
    const key = Math.floor(atMs / this.bucketMs);
    this.buckets.set(key, (this.buckets.get(key) || 0) + 1);
  }

  rate(nowMs) {
    const oldest = Math.floor((nowMs - this.windowMs) / this.bucketMs);
    let total = 0;
    for (const [key, n] of this.buckets) {
      if (key <= oldest) this.buckets.delete(key);
      else total += n;
    }
    if (this.firstAt === null) return 0;
    const span = Math.min(this.windowMs, Math.max(1000, nowMs - this.firstAt));
    return (total * 1000) / span;
  }
}

/** Seconds with 3 decimals, the unit debug.js shows. */
export function seconds(ms) {
  return (ms / 1000).toFixed(3);
}

/**
 * The words under a red gauge: where the lag comes from, as the node's doctor says it for this job
 * (GET /api/v2/jobs/<id>/diagnosis/, open to anyone who may see the job; it names no other user). When the node finds
 * no cause of its own, the lag is on this side of the socket: this browser or its clock.
 */
export function reasonText(diagnosis) {
  const reasons = (diagnosis && diagnosis.reasons) || [];
  if (!reasons.length) {
    return 'The node keeps up: this lag is on the way to this browser (a busy tab, a slow link) or its clock differs.';
  }
  return 'Lag comes from: ' + reasons.map((r) => r.sentence).join('; ') + '.';
}

/** Draws a LagWindow and RateMeter into the page's gauge cells (ids gauge-<row>-<avg|stdev|max>). */
export class LagGauge {
  /** @param diagnosisUrl where to ask why when the gauge turns red (none: the gauge only turns red) */
  constructor(root, diagnosisUrl = null) {
    this.root = root;
    this.window = new LagWindow(1024);
    this.rate = new RateMeter();
    this.events = 0;
    this.dirty = true;
    this.diagnosisUrl = diagnosisUrl;
    this.askedAt = -Infinity;
    this.asking = false;
  }

  record(lagMs, atMs) {
    this.window.record(lagMs);
    this.rate.mark(atMs);
    this.events++;
    this.dirty = true;
  }

  /** Called a few times per second; the DOM is touched only then, not per event. */
  draw(nowMs) {
    const rows = { lag: this.window.stats() };
    const [maxAvg, maxStdev, maxMax] = this.window.maxima();
    Object.assign(rows, { 'max-avg': maxAvg, 'max-stdev': maxStdev, 'max-max': maxMax });
    if (this.dirty) {
      for (const [row, triple] of Object.entries(rows)) {
        ['avg', 'stdev', 'max'].forEach((col, i) => this.set(`gauge-${row}-${col}`, seconds(triple[i])));
      }
      this.set('gauge-window', String(this.window.count));
      this.set('gauge-events', String(this.events));
      this.dirty = false;
    }
    this.set('gauge-rate', this.rate.rate(nowMs).toFixed(1));
    this.explain(rows.lag[AVG] >= RED_MS && this.window.count > 0, nowMs);
  }

  /** Red: say why (asking the node at most every ASK_EVERY_MS); no longer red: the words go. */
  explain(red, nowMs) {
    if (!this.root) return;
    this.root.classList.toggle('lagging', red);
    let line = this.root.querySelector('#gauge-reason');
    if (!red) {
      if (line) line.hidden = true;
      return;
    }
    if (!line) {
      line = document.createElement('div');
      line.id = 'gauge-reason';
      line.className = 'reason';
      line.setAttribute('role', 'status');
      this.root.appendChild(line);
    }
    line.hidden = !line.textContent;
    if (!this.diagnosisUrl || this.asking || nowMs - this.askedAt < ASK_EVERY_MS) return;
    this.asking = true;
    this.askedAt = nowMs;
    getJson(this.diagnosisUrl)
      .then((d) => { line.textContent = reasonText(d); })
      .catch(() => { line.textContent = ''; })
      .finally(() => {
        this.asking = false;
        line.hidden = !line.textContent || !this.root.classList.contains('lagging');
      });
  }

  set(id, text) {
    const node = this.root.querySelector('#' + id);
    if (node && node.textContent !== text) node.textContent = text;
  }
}
