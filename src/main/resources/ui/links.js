// Stable line links: /jobs/<id>#L<line> (1-based, as the line numbers show) scrolls to and highlights that line.
// The line may not exist yet while the job streams: the link waits, and jumps once the line has arrived. Clicking a
// line number points the address at that line; the ¶ beside it (or "y") copies the link.
import { el } from './common.js';

const HASH = /^#L([1-9][0-9]{0,9})$/;

/** The 0-based job line a hash names, or null. */
export function lineOfHash(hash) {
  const m = HASH.exec(hash || '');
  return m ? Number(m[1]) - 1 : null;
}

export function lineUrl(n) {
  return `${location.origin}${location.pathname}#L${n + 1}`;
}

/**
 * Owns the page's target line. Called on the page's main thread only; `store` is the job's whole LineStore (links
 * address job lines, so a filtered view is left for the whole output before jumping).
 */
export class LineLinks {
  /**
   * @param note        element that says what the link is waiting for
   * @param showAll     switches the viewer to the whole output (clearing filters); called before a jump
   */
  constructor(viewer, store, note, showAll) {
    this.viewer = viewer;
    this.store = store;
    this.note = note;
    this.showAll = showAll;
    this.pending = null;
    this.target = null;
    this.anchored = null; // the line jumped to, kept in view while the page around it settles
    // panels above the output (the play recap) may appear after the jump and shrink the view: keep the line in it,
    // until the reader moves on their own
    new ResizeObserver(() => this.keepInView()).observe(viewer.scroller);
    for (const type of ['wheel', 'mousedown', 'touchstart']) {
      viewer.scroller.addEventListener(type, () => { this.anchored = null; }, { passive: true });
    }
    document.addEventListener('keydown', () => { this.anchored = null; });
  }

  keepInView() {
    if (this.anchored === null || this.viewer.source !== this.store) return;
    const node = this.viewer.drawnNode(this.anchored);
    const view = this.viewer.scroller.getBoundingClientRect();
    const box = node && node.getBoundingClientRect();
    if (!box || box.top < view.top || box.bottom > view.bottom) this.viewer.scrollToLine(this.anchored, 'center');
  }

  /** Follows the address's #L<line>, now or once the line arrives. Returns whether the hash named a line. */
  follow(hash = location.hash) {
    const n = lineOfHash(hash);
    if (n === null) return false;
    this.showAll();
    this.target = n;
    this.pending = n;
    this.viewer.setTarget(n);
    this.check();
    return true;
  }

  /** Jumps to the pending line once the job has it; the viewer loads its chunk as it draws. */
  check() {
    if (this.pending === null) return;
    if (this.store.total <= this.pending) {
      this.setNote(`waiting for line ${(this.pending + 1).toLocaleString('en-US')}…`);
      return;
    }
    const n = this.pending;
    this.pending = null;
    this.setNote('');
    if (this.viewer.source !== this.store) this.showAll();
    this.viewer.scrollToLine(n, 'center');
    this.anchored = n;
    document.body.dataset.target = String(n + 1);
  }

  /** The reader picked a line (clicked its number): the address now links to it. */
  select(n) {
    this.target = n;
    this.pending = null;
    this.anchored = null;
    this.setNote('');
    history.replaceState(null, '', '#L' + (n + 1));
    this.viewer.setTarget(n);
  }

  /**
   * Moves the selected line by one row of the view (`[` / `]`, the keyboard's way to pick a line to link), from the
   * selected line if it is drawn, else from the top of the view; keeps it in view.
   */
  step(delta) {
    const rows = [...this.viewer.viewport.children].filter((node) => node.record && Number.isInteger(node.record.n));
    if (!rows.length) return;
    let at = rows.findIndex((node) => node.record.n === this.target);
    if (at < 0) at = rows.findIndex((node) => Number(node.dataset.line) >= this.viewer.topLine()) - delta;
    const next = rows[Math.max(0, Math.min(rows.length - 1, at + delta))];
    this.select(next.record.n);
    const view = this.viewer.scroller.getBoundingClientRect();
    const box = next.getBoundingClientRect();
    if (box.top < view.top || box.bottom > view.bottom) this.viewer.scrollToLine(Number(next.dataset.line), 'center');
  }

  /** Copies the link to line n (the selected line, else the top line in view, when n is omitted). */
  async copy(n = this.target) {
    if (n === null || n === undefined) {
      const top = this.viewer.source.get(this.viewer.topLine());
      if (!top) return;
      n = top.n;
    }
    const url = lineUrl(n);
    let copied = false;
    try {
      await navigator.clipboard.writeText(url);
      copied = true;
    } catch (e) {
      copied = copyByCommand(url);
    }
    this.setNote(copied ? `copied ${url}` : url);
    this.note.dataset.copied = url;
  }

  setNote(text) {
    if (this.note.textContent !== text) this.note.textContent = text;
  }
}

/** The clipboard API needs a secure context and focus; the old command works from a click in more places. */
function copyByCommand(text) {
  const area = el('textarea', 'offscreen', text);
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch (e) {
    ok = false;
  }
  area.remove();
  return ok;
}
