// ui/lib/i18n.js: placeholders, missing keys, fallbacks. Run: node --test tests/js/
import {test} from "node:test";
import assert from "node:assert/strict";
import {interpolate, setCatalog, t, tFirst, lang} from "../../ui/lib/i18n.js";

test("placeholders are filled from params, unknown ones stay visible", () => {
  assert.equal(interpolate("Since {from} ({duration})", {from: "9:00", duration: "5 min"}), "Since 9:00 (5 min)");
  // negative control: a missing parameter is not silently "undefined" (tests/test_ui.py looks for "{name}")
  assert.equal(interpolate("Since {from}", {}), "Since {from}");
  assert.equal(interpolate("{n} h", {n: 0}), "0 h", "a falsy value is still a value");
});

test("t() reads the loaded catalog; a missing key shows itself", () => {
  setCatalog({lang: "fr", messages: {"ui.nav.status": "Statut"}, languages: ["en", "fr"]});
  assert.equal(lang(), "fr");
  assert.equal(t("ui.nav.status"), "Statut");
  assert.equal(t("ui.nav.nope"), "ui.nav.nope");
  assert.notEqual(t("ui.nav.nope"), "", "control: never an empty string");
});

test("tFirst() prefers the specific wording and falls back to the general one", () => {
  setCatalog({lang: "en", messages: {"ui.overall.intercepted": "general", "ui.overall.intercepted.antivirus": "av"}});
  assert.equal(tFirst(["ui.overall.intercepted.antivirus", "ui.overall.intercepted"]), "av");
  assert.equal(tFirst(["ui.overall.intercepted.state", "ui.overall.intercepted"]), "general");
  assert.equal(tFirst(["a.b", "c.d"]), "c.d", "control: nothing known shows the last key");
});
