// ui/lib/timeline.js: where the history bars sit, and the axis ticks.
import {test} from "node:test";
import assert from "node:assert/strict";
import {bars, span, ticks} from "../../ui/lib/timeline.js";

const H = 3600000;
const at = (ms) => new Date(ms).toISOString();

test("bars are placed in proportion to time; an ongoing one reaches now", () => {
  const t0 = Date.UTC(2024, 0, 1);
  const episodes = [{started_at: at(t0), ended_at: at(t0 + 2 * H)}, {started_at: at(t0 + 6 * H), ended_at: null}];
  const now = t0 + 10 * H;
  const [a, b] = bars(episodes, now);
  assert.equal(a.left, 0);
  assert.ok(Math.abs(a.width - 20) < 1e-9, a.width);
  assert.ok(Math.abs(b.left - 60) < 1e-9 && Math.abs(b.width - 40) < 1e-9, JSON.stringify(b));
  assert.ok(Math.abs(a.width - 40) > 1, "control: the closed episode does not stretch to now");
});

test("a very short episode stays visible and nothing leaves the axis", () => {
  const t0 = Date.UTC(2024, 0, 1);
  const [only] = bars([{started_at: at(t0), ended_at: at(t0 + 1000)}], t0 + 1000);
  assert.ok(only.width >= 0.8 && only.left + only.width <= 100, JSON.stringify(only));
  assert.equal(span([{started_at: at(t0)}], t0).length, H, "at least an hour wide");
});

test("ticks are round moments, 2 to 6 of them", () => {
  const start = Date.UTC(2024, 0, 1, 0, 30);
  for (const hours of [1, 5, 30, 24 * 9, 24 * 90]) {
    const out = ticks(start, hours * H);
    assert.ok(out.length >= 1 && out.length <= 8, `${hours} h: ${out.length}`);
    assert.ok(out.every((x) => x.left >= 0 && x.left <= 100));
  }
  const day = ticks(start, 24 * H);
  assert.ok(day.every((x) => x.at % (6 * H) === 0), "a day is marked every 6 h");
  assert.ok(day.length <= 6, "control: not every hour");
});
