// ui/lib/icons.js and every UI file: each status has an icon of certguard's own, and no text glyph that the
// installed fonts may lack (⛔ rendered as an empty box) is left in the UI's sources.
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync, readdirSync, statSync} from "node:fs";
import {join} from "node:path";
import {ICONS, statusIcon} from "../../ui/lib/icons.js";

const UI = new URL("../../ui/", import.meta.url).pathname;
const STATUSES = ["ok", "intercepted", "suspicious", "captive_portal", "misconfigured", "blocked", "unreachable",
                  "error", "offline", "unknown"];
// Dingbats, misc symbols and emoji: the blocks whose glyphs system fonts often lack. (Arrows like ← are fine.)
const RISKY = /[\u2600-\u27BF\u{1F000}-\u{1FAFF}\uFE0F]/u;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : (/\.(js|html|css)$/.test(name) ? [p] : []);
  });
}

test("every status maps to a drawn icon", () => {
  for (const s of STATUSES) assert.ok(ICONS[statusIcon(s)], s);
  assert.notEqual(statusIcon("blocked"), statusIcon("offline"), "blocked and offline look different");
  assert.equal(statusIcon("no-such-status"), "info", "control: an unknown status still gets a drawn icon");
});

test("no emoji-like glyph in the UI's sources", () => {
  assert.ok(RISKY.test("⛔") && RISKY.test("✔") && !RISKY.test("←"), "control: the check sees them");
  const found = files(UI).filter((p) => RISKY.test(readFileSync(p, "utf8")));
  assert.deepEqual(found, []);
});
