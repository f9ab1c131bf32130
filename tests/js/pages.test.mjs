// ui/pages/index.js: the registry main.js routes and builds the navigation from.
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {NAMES, PAGES} from "../../ui/pages/index.js";

const EN = JSON.parse(readFileSync(new URL("../../certguard/locales/en.json", import.meta.url), "utf8"));

function problems(pages) {
  const out = [];
  const routes = pages.map((p) => p.route);
  for (const p of pages) {
    if (!/^[a-z][a-z0-9-]*$/.test(p.route || "")) out.push(`bad route ${p.route}`);
    if (typeof p.render !== "function") out.push(`${p.route}: no render`);
    if (p.nav && !(p.nav in EN)) out.push(`${p.route}: nav key ${p.nav} not in the catalog`);
    if (p.parent && !routes.includes(p.parent)) out.push(`${p.route}: unknown parent ${p.parent}`);
    if (routes.filter((r) => r === p.route).length > 1) out.push(`${p.route}: twice`);
  }
  return out;
}

test("every registered page has a route, a renderer and a translated menu entry", () => {
  assert.equal(PAGES.length, NAMES.length);
  const routes = PAGES.map((p) => p.route);  // other pages may join (ui/pages/workshop.js): the six stay, in order
  const core = ["status", "sites", "site", "device", "history", "settings"];
  assert.deepEqual(routes.filter((r) => core.includes(r)), core);
  assert.deepEqual(problems(PAGES), []);
  assert.equal(PAGES[0].route, "status", "the start page");
});

test("control: the check catches a broken registry", () => {
  const broken = [...PAGES, {route: "sites", nav: "ui.nav.nope", parent: "gone", render: null}];
  const found = problems(broken);
  assert.ok(found.includes("sites: twice") && found.includes("sites: nav key ui.nav.nope not in the catalog"), found);
  assert.ok(found.includes("sites: unknown parent gone") && found.includes("sites: no render"), found);
});
