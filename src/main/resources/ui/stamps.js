// Per-line timestamps on demand: the `created` of the event a line belongs to, absolute (local time) or relative to
// the job's start. The choice is remembered in localStorage like the theme.
import { parseCreated } from './common.js';

const KEY = 'jobstream-timestamps';
export const MODES = ['off', 'absolute', 'relative'];

export function savedMode() {
  try {
    const mode = localStorage.getItem(KEY);
    return MODES.includes(mode) ? mode : 'off';
  } catch (e) {
    return 'off'; // storage disabled
  }
}

export function saveMode(mode) {
  try {
    localStorage.setItem(KEY, mode);
  } catch (e) {
    // storage disabled: the choice lasts for this page only
  }
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** "2026-12-06 14:03:07.250" in the browser's time zone. */
export function absolute(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
    + `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "+1:02.250" or "+1:00:02.250" after the start (a clock set back shows "-0:00.100"). */
export function relative(ms) {
  const sign = ms < 0 ? '-' : '+';
  const total = Math.round(Math.abs(ms));
  const h = Math.floor(total / 3600000);
  const m = Math.floor((total % 3600000) / 60000);
  const s = Math.floor((total % 60000) / 1000);
  const rest = `${pad(s)}.${pad(total % 1000, 3)}`;
  return h > 0 ? `${sign}${h}:${pad(m)}:${rest}` : `${sign}${m}:${rest}`;
}

/** The viewer's stamp function for a mode, or null for none. `start()` gives the job's start in epoch ms. */
export function stampFor(mode, start) {
  if (mode === 'absolute') {
    return (record) => {
      const ms = parseCreated(record.meta.created);
      return Number.isFinite(ms) ? absolute(ms) : '';
    };
  }
  if (mode === 'relative') {
    return (record) => {
      const ms = parseCreated(record.meta.created);
      const from = start();
      return Number.isFinite(ms) && Number.isFinite(from) ? relative(ms - from) : '';
    };
  }
  return null;
}
