// ui/lib/format.js: dates in the user's locale, durations, site labels and routes.
import {test} from "node:test";
import assert from "node:assert/strict";
import {durationUnit, formatDate, localeFor, minutesBetween, parseHash, siteHref, siteLabel} from "../../ui/lib/format.js";

test("English dates are not US-only: day before month", () => {
  assert.equal(localeFor("en"), "en-GB");
  assert.equal(localeFor("kk"), "kk");
  const text = formatDate("2024-03-05T12:00:00Z", "en");
  assert.match(text, /5 Mar 2024/, text);
  // negative control: the US order that the issue complains about looks different
  assert.doesNotMatch(new Date("2024-03-05T12:00:00Z").toLocaleString("en-US", {dateStyle: "medium"}), /5 Mar/);
  assert.equal(formatDate("not a date", "en"), "not a date", "garbage is shown as it came, never 'Invalid Date'");
});

test("durations pick the unit a person would use", () => {
  assert.deepEqual(durationUnit(0), {unit: "now", n: 0});
  assert.deepEqual(durationUnit(1), {unit: "minutes", n: 1});
  assert.deepEqual(durationUnit(119), {unit: "minutes", n: 119});
  assert.deepEqual(durationUnit(120), {unit: "hours", n: 2});
  assert.deepEqual(durationUnit(3 * 24 * 60), {unit: "days", n: 3});
  assert.notDeepEqual(durationUnit(47 * 60), {unit: "days", n: 2}, "control: 47 h are still hours");
  assert.equal(minutesBetween(10 * 60000, 0), 0, "a clock step backwards is not a negative duration");
});

test("site labels and routes", () => {
  assert.equal(siteLabel("vk.com", 443), "vk.com");
  assert.equal(siteLabel("vk.com", "8443"), "vk.com:8443");
  assert.equal(siteHref("a b", 443), "#/site/a%20b/443");
  assert.deepEqual(parseHash("#/site/a%20b/443", "status"), {page: "site", params: ["a b", "443"]});
  assert.deepEqual(parseHash("", "status"), {page: "status", params: []});
  assert.deepEqual(parseHash("#/site/%E0%A4", "status"), {page: "site", params: ["%E0%A4"]}, "bad escapes do not throw");
});

test("a locale without calendar data gets numeric dates, not the root locale's 'M12'", async () => {
  const {hasCalendarData, numericMoment} = await import("../../ui/lib/format.js");
  const d = new Date(2026, 11, 2, 0, 42);
  assert.equal(numericMoment(d, {dateStyle: "medium", timeStyle: "short"}), "02.12.2026, 00:42");
  assert.equal(numericMoment(d, {hour: "2-digit", minute: "2-digit"}), "00:42");
  assert.equal(numericMoment(d, {day: "numeric", month: "short"}), "02.12");
  // Node's full ICU has the data (Chromium's reduced one lacks kk: tests/test_ui_kinds.py checks the window)
  assert.equal(hasCalendarData("en-GB"), true);
  assert.equal(hasCalendarData("fr"), true);
});
