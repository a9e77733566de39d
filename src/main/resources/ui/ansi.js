// ANSI SGR colours to styled text segments. Output is always text: callers build spans with textContent.

/** Any escape sequence: CSI (ESC [ params intermediates final) or a two-character ESC sequence. */
const ESCAPE = /\x1b(?:\[([0-?]*)[ -/]*([@-~])|[@-Z\\-_])/g;

export function newAnsiState() {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false };
}

/**
 * Splits one line into segments of equally styled text, updating `state` so that a colour set on one line
 * carries to the next (Ansible colours multi-line results with one sequence at the start).
 * Sequences other than SGR (cursor moves, erase) are dropped.
 * @returns {Array<{text: string, cls: string, color: string|null, background: string|null}>}
 */
export function parseAnsi(line, state) {
  const segments = [];
  let last = 0;
  ESCAPE.lastIndex = 0;
  let m;
  while ((m = ESCAPE.exec(line)) !== null) {
    if (m.index > last) segments.push(segment(line.substring(last, m.index), state));
    if (m[2] === 'm' && !/[<=>?]/.test(m[1] || '')) applySgr(state, m[1] || '');
    last = ESCAPE.lastIndex;
  }
  if (last < line.length) segments.push(segment(line.substring(last), state));
  return segments;
}

/** Removes every escape sequence: the plain text of a line. */
export function stripAnsi(line) {
  return line.replace(ESCAPE, '');
}

function applySgr(state, paramText) {
  const p = paramText === '' ? [0] : paramText.split(/[;:]/).map((x) => (x === '' ? 0 : Number(x)));
  for (let i = 0; i < p.length; i++) {
    const n = p[i];
    if (n === 0) Object.assign(state, newAnsiState());
    else if (n === 1) state.bold = true;
    else if (n === 2) state.dim = true;
    else if (n === 3) state.italic = true;
    else if (n === 4) state.underline = true;
    else if (n === 7) state.inverse = true;
    else if (n === 22) { state.bold = false; state.dim = false; }
    else if (n === 23) state.italic = false;
    else if (n === 24) state.underline = false;
    else if (n === 27) state.inverse = false;
    else if (n >= 30 && n <= 37) state.fg = n - 30;
    else if (n >= 90 && n <= 97) state.fg = n - 90 + 8;
    else if (n === 39) state.fg = null;
    else if (n >= 40 && n <= 47) state.bg = n - 40;
    else if (n >= 100 && n <= 107) state.bg = n - 100 + 8;
    else if (n === 49) state.bg = null;
    else if (n === 38 || n === 48) {
      const [colour, used] = extendedColour(p, i + 1);
      if (colour !== undefined) state[n === 38 ? 'fg' : 'bg'] = colour;
      i += used;
    }
  }
}

/** `5;n` (256-colour palette index) or `2;r;g;b` (truecolour); returns [colour, parameters consumed]. */
function extendedColour(p, at) {
  if (p[at] === 5 && at + 1 < p.length) {
    const index = p[at + 1];
    return [index >= 0 && index <= 255 ? index : undefined, 2];
  }
  if (p[at] === 2 && at + 3 < p.length) {
    const [r, g, b] = [p[at + 1], p[at + 2], p[at + 3]].map((v) => Math.max(0, Math.min(255, v | 0)));
    return [`rgb(${r}, ${g}, ${b})`, 4];
  }
  return [undefined, 1];
}

/** The xterm 256-colour palette beyond the first 16 (which come from the stylesheet's theme). */
export function paletteColour(index) {
  if (index < 232) {
    const i = index - 16;
    const level = (v) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)})`;
  }
  const grey = 8 + (index - 232) * 10;
  return `rgb(${grey}, ${grey}, ${grey})`;
}

function segment(text, state) {
  let fg = state.fg;
  let bg = state.bg;
  const classes = [];
  if (state.inverse) {
    [fg, bg] = [bg, fg];
    if (fg === null) classes.push('ansi-fg-inverse');
    if (bg === null) classes.push('ansi-bg-inverse');
  }
  let color = null;
  let background = null;
  if (typeof fg === 'number' && fg < 16) classes.push('ansi-fg-' + fg);
  else if (typeof fg === 'number') color = paletteColour(fg);
  else if (typeof fg === 'string') color = fg;
  if (typeof bg === 'number' && bg < 16) classes.push('ansi-bg-' + bg);
  else if (typeof bg === 'number') background = paletteColour(bg);
  else if (typeof bg === 'string') background = bg;
  if (state.bold) classes.push('ansi-bold');
  if (state.dim) classes.push('ansi-dim');
  if (state.italic) classes.push('ansi-italic');
  if (state.underline) classes.push('ansi-underline');
  return { text, cls: classes.join(' '), color, background };
}

/** Appends a line's segments to `parent`: plain text nodes, or spans whose text is set with textContent. */
export function appendSegments(parent, segments) {
  for (const s of segments) {
    if (!s.cls && !s.color && !s.background) {
      parent.appendChild(document.createTextNode(s.text));
      continue;
    }
    const span = document.createElement('span');
    if (s.cls) span.className = s.cls;
    if (s.color) span.style.color = s.color;
    if (s.background) span.style.backgroundColor = s.background;
    span.textContent = s.text;
    parent.appendChild(span);
  }
}
