// The history timeline's geometry: where each episode's bar sits on a network's time axis, and the axis ticks.
// Pure: times in milliseconds in, percentages out (main.js turns them into styles; CSP forbids inline ones).

const HOUR = 3600000;
const MIN_WIDTH = 0.8;  // percent: a short episode stays visible

export function span(episodes, nowMs) {
  const start = Math.min(...episodes.map((e) => new Date(e.started_at).getTime()));
  return {start, end: nowMs, length: Math.max(nowMs - start, HOUR)};
}

export function bars(episodes, nowMs) {
  const s = span(episodes, nowMs);
  return episodes.map((e) => {
    const from = (new Date(e.started_at).getTime() - s.start) / s.length * 100;
    const to = ((e.ended_at ? new Date(e.ended_at).getTime() : nowMs) - s.start) / s.length * 100;
    const left = Math.min(Math.max(from, 0), 100 - MIN_WIDTH);
    return {left, width: Math.min(Math.max(to - from, MIN_WIDTH), 100 - left)};
  });
}

// Ticks at round steps (1 h … 1 week) so that an axis shows 2–6 labelled moments from start to end.
const STEPS = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 2 * 24 * HOUR, 7 * 24 * HOUR, 30 * 24 * HOUR];

export function ticks(startMs, lengthMs) {
  const step = STEPS.find((s) => lengthMs / s <= 6) || STEPS[STEPS.length - 1];
  const out = [];
  for (let at = Math.ceil(startMs / step) * step; at <= startMs + lengthMs && out.length < 8; at += step) {
    out.push({at, left: (at - startMs) / lengthMs * 100});
  }
  return out;
}
