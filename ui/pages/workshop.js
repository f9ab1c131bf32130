// Workshop: the lab's scenarios (certguard lab), each run on the daemon's machine on 127.0.0.1 with throwaway
// CAs, and certguard's verdict beside what a browser would have shown. The verdict is the API's (the same JSON
// as `certguard check`); this page only lays it out, with the same catalog keys as the other pages.
import {el} from "../lib/dom.js";
import {t} from "../lib/i18n.js";
import {api, Unauthorised, withLang} from "../lib/api.js";
import {hooks} from "../lib/actions.js";
import {announce, badge, title} from "../lib/widgets.js";

const results = new Map();  // scenario id -> the last answer, kept while the page is re-rendered
let running = null;

function verdictView(doc) {
  const r = doc.results[0];
  const certguard = [el("p", {}, badge(r.status), " ", el("span", {class: "rule", text: r.rule})),
    r.interceptor ? el("p", {class: "who", text: `${r.interceptor.name} — ${t(`kind.${r.interceptor.kind}`)}`}) : null,
    r.findings.length ? el("ul", {class: "findings"}, r.findings.map((f) =>
      el("li", {class: `sev--${f.severity}`}, el("span", {class: "sev", text: f.id}), " ", f.message))) : null,
    r.advice ? el("p", {class: "advice", text: r.advice}) : null];
  return el("dl", {class: "facts", "data-result": r.status},
    el("dt", {text: t("lab.certguard_says")}), el("dd", {}, certguard),
    el("dt", {text: t("lab.browser_says")}), el("dd", {class: "browser", text: doc.lab.browser}));
}

async function runScenario(id) {
  if (running) return;
  running = id;
  const button = document.getElementById(`run-${id}`);
  if (button) { button.setAttribute("aria-busy", "true"); button.setAttribute("aria-disabled", "true"); }
  try {
    const doc = await api(withLang("/api/lab/run"), {method: "POST", headers: {"Content-Type": "application/json"},
                                                      body: JSON.stringify({id})});
    results.set(id, doc);
    announce(`${doc.lab.title}: ${t(`status.${doc.results[0].status}`)}`);
  } catch (e) {
    if (e instanceof Unauthorised) { running = null; return hooks.loggedOut(); }
    announce(t("ui.error_detail", {detail: e.message}));
  }
  running = null;
  const slot = document.getElementById(`result-${id}`);
  if (slot && results.has(id)) slot.replaceChildren(verdictView(results.get(id)));
  if (button) { button.removeAttribute("aria-busy"); button.removeAttribute("aria-disabled"); button.focus(); }
  return undefined;
}

async function render() {
  const doc = await api(withLang("/api/lab"));
  return [title("ui.nav.workshop"), el("p", {class: "lead", text: t("ui.workshop.intro")}),
    doc.scenarios.map((s) => el("article", {class: "cert", id: `scenario-${s.id}`},
      el("h2", {text: s.title}), el("p", {text: s.what_it_shows}),
      el("div", {class: "actions"}, el("button", {type: "button", id: `run-${s.id}`, onclick: () => runScenario(s.id),
                                                  text: t("ui.workshop.run")})),
      el("div", {id: `result-${s.id}`, "aria-live": "polite"}, results.has(s.id) ? verdictView(results.get(s.id)) : null)))];
}

// A live update of the daemon's own round must not wipe a result the trainer is showing.
export default {route: "workshop", nav: "ui.nav.workshop", render, holdLiveUpdates: () => results.size > 0 || running !== null};
