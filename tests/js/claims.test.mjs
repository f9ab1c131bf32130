// The window claims no more than was checked (issue 14): the "all is well" lead says when CT was not counted,
// and a site's CT line says why in the window's words, never with a command to type.
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {setCatalog} from "../../ui/lib/i18n.js";
import {leadText} from "../../ui/pages/status.js";
import {ctText} from "../../ui/pages/site.js";

const catalogs = Object.fromEntries(["en", "fr", "ru", "kk"].map((lang) => [lang,
  JSON.parse(readFileSync(new URL(`../../certguard/locales/${lang}.json`, import.meta.url), "utf8"))]));
const use = (lang) => setCatalog({lang, messages: catalogs[lang], languages: Object.keys(catalogs)});
const counted = {enforced: true, policy_met: true, scts: [{valid: true}, {valid: true}], reasons: []};
const stale = {enforced: false, policy_met: true, scts: [{valid: true}], reasons: [], log_list_version: "81.5"};

test("the ok lead says CT was not counted when no site's CT was", () => {
  for (const lang of Object.keys(catalogs)) {
    use(lang);
    const m = catalogs[lang];
    assert.equal(leadText("ok", null, [{ct: null}, {ct: stale}]), m["ui.overall_help.ok_no_ct"]);
    // control: one site whose CT was counted keeps the general wording
    assert.equal(leadText("ok", null, [{ct: stale}, {ct: counted}]), m["ui.overall_help.ok"]);
    assert.notEqual(m["ui.overall_help.ok_no_ct"], m["ui.overall_help.ok"]);
  }
});

test("a site's CT line names no command in the window", () => {
  for (const lang of Object.keys(catalogs)) {
    use(lang);
    for (const ct of [null, stale]) {
      const text = ctText(ct);
      assert.doesNotMatch(text, /certguard (update|audit)|--ct-logs/, `${lang}: ${text}`);
      assert.ok(!text.startsWith("ui.") && !text.includes("{"), text);
    }
    assert.ok(ctText(stale).includes("81.5"), "the list's version is named");
    // control: the CLI's own wording does name the command, so the check above can fail
    assert.match(catalogs[lang]["cli.ct_not_checked"], /certguard update/);
  }
});
