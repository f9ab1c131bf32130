// Status: one verdict in plain words, who, what to do, "Check now". The daemon decides the headline (one ordering
// of statuses, allowed interceptors last: Daemon.headline()); this page only renders it.
import {el} from "../lib/dom.js";
import {t} from "../lib/i18n.js";
import {icon, statusIcon} from "../lib/icons.js";
import {when} from "../lib/format.js";
import {state} from "../lib/state.js";
import {badge, siteLink, title} from "../lib/widgets.js";
import {checkNow} from "../lib/actions.js";
import {api, withLang} from "../lib/api.js";

function headlineResult(doc) {
  const h = doc.headline || {};
  if (h.host == null) return null;
  return doc.results.find((r) => r.host === h.host && r.port === h.port) || null;
}

// Per kind of interceptor its own headline, lead and colour: antivirus HTTPS scanning on this computer is not the
// state on the network (issue 14). Kinds that are attacks keep the general red headline. Literal keys, so
// tests/test_i18n.py sees each one used.
const KIND_TITLE = {antivirus: "ui.kind_title.antivirus", corporate: "ui.kind_title.corporate",
                    debugging: "ui.kind_title.debugging", captive_portal: "ui.kind_title.captive_portal"};
const KIND_LEAD = {state: "ui.kind_lead.state", rogue_ca: "ui.kind_lead.rogue_ca", malware: "ui.kind_lead.malware",
                   unknown: "ui.kind_lead.unknown", antivirus: "ui.kind_lead.antivirus",
                   corporate: "ui.kind_lead.corporate", debugging: "ui.kind_lead.debugging",
                   captive_portal: "ui.kind_lead.captive_portal"};
// red: someone on the network (or malware); amber: software on this computer or the user's organisation.
const KIND_TONE = {antivirus: "local", debugging: "local", corporate: "org", captive_portal: "portal"};
export const STORE_LABEL = {linux: "ui.device.store.linux", "nss-firefox": "ui.device.store.nss-firefox",
                            "nss-chromium": "ui.device.store.nss-chromium", nss: "ui.device.store.nss",
                            macos: "ui.device.store.macos", windows: "ui.device.store.windows",
                            file: "ui.device.store.file"};

function headlineText(overall, kind) {
  if (overall === "intercepted" && KIND_TITLE[kind]) return t(KIND_TITLE[kind]);
  return t(`ui.overall.${overall}`);
}

// "All is well" claims no more than this round checked: when no site's CT could be counted (no log list, or one
// that does not cover now), the lead says so instead of implying CT was checked.
export function leadText(overall, kind, results) {
  if (overall === "intercepted" && KIND_LEAD[kind]) return t(KIND_LEAD[kind]);
  if (overall === "ok" && !results.some((r) => r.ct && r.ct.enforced)) return t("ui.overall_help.ok_no_ct");
  return t(`ui.overall_help.${overall}`);
}

// How sure certguard is that the connection is intercepted, apart from who does it: a name match makes the
// *who* uncertain, never the interception itself.
function certaintyText(r) {
  if (r.status === "intercepted" && !r.public_anchor) return t("ui.certainty.certain");
  if (r.status === "suspicious") return t("ui.certainty.possible");
  return null;
}

function attributionText(r) {
  if (!["intercepted", "suspicious"].includes(r.status)) return null;
  const i = r.interceptor;
  if (!i) return t("ui.attribution.none");
  // Not recognised at all: the name is only the issuer's, so nothing is "recognised by its key".
  if (i.kind === "unknown") return t("ui.attribution.unknown", {name: i.name});
  const name = i.name + (i.country ? ` (${i.country})` : "");
  return t(i.match === "name" ? "ui.attribution.name" : "ui.attribution.strong", {name, kind: t(`kind.${i.kind}`)});
}

// The device audit says where the root that signed the intercepted chain is installed; shown once it is known.
async function installedNote(r) {
  if (!r.device_anchor) return null;
  let doc;
  try { doc = await api(withLang("/api/audit")); } catch (e) { return null; }
  const root = (doc.roots || []).find((x) => x.sha256 === r.device_anchor);
  if (!root) return null;
  const stores = [...new Set(root.locations.filter((l) => l.trust === "trusted").map((l) => l.store))];
  if (!stores.length) return null;
  return el("p", {class: "installed", id: "installed-root"},
    t("ui.status.installed_root", {stores: stores.map((s) => t(STORE_LABEL[s] || "ui.device.store.file")).join(", ")}),
    " ", el("a", {href: `#/device/${root.sha256}`, text: t("ui.status.see_device")}));
}

async function render() {
  const doc = state.status;
  const overall = doc.overall;
  const culprit = headlineResult(doc);
  const kind = culprit && culprit.interceptor ? culprit.interceptor.kind : null;
  const tone = overall === "intercepted" ? (KIND_TONE[kind] || "attack") : overall;
  const affected = doc.results.filter((r) => !["ok", "unreachable"].includes(r.status));
  // The daemon words the advice for every site sharing the headline's cause ("these sites" when there are several).
  const adviceText = culprit ? (doc.headline.advice || culprit.advice) : null;
  const card = el("section", {class: `verdict verdict--${overall} tone--${tone}`, "aria-labelledby": "verdict-title",
                              "data-overall": overall, "data-kind": kind || "", "data-tone": tone},
    el("div", {class: "verdict-icon"}, icon(statusIcon(overall))),
    el("div", {class: "verdict-body"},
      el("h2", {id: "verdict-title", text: headlineText(overall, kind)}),
      el("p", {class: "lead", text: doc.awaiting_consent ? t("ui.consent.waiting") : leadText(overall, kind, doc.results)}),
      adviceText ? [el("h3", {text: t("ui.what_to_do")}), el("p", {class: "advice", text: adviceText})] : null,
      culprit && certaintyText(culprit) ? el("p", {class: "certainty", text: certaintyText(culprit)}) : null,
      culprit && attributionText(culprit) ? el("p", {class: "who", text: attributionText(culprit)}) : null,
      culprit ? await installedNote(culprit) : null,
      culprit && culprit.allowed ? el("p", {text: t("ui.allowed_note")}) : null,
    ));
  const list = affected.length ? el("section", {"aria-labelledby": "affected-title"},
    el("h3", {id: "affected-title", text: t("ui.affected")}),
    el("ul", {class: "affected"}, affected.map((r) => el("li", {}, siteLink(r), " ", badge(r.status),
      r.allowed ? el("span", {class: "muted", text: " " + t("ui.allowed")}) : null)))) : null;
  const checking = doc.running;
  // aria-disabled, not disabled: a disabled button drops the keyboard focus to <body>.
  const button = el("button", {id: "check-now", type: "button", "aria-busy": checking ? "true" : null,
    "aria-disabled": checking ? "true" : null, onclick: checkNow,
    text: checking ? t("ui.checking") : t("ui.check_now")});
  const facts = el("dl", {class: "facts"},
    el("dt", {text: t("ui.last_check")}), el("dd", {id: "checked-at", text: when(doc.checked_at)}),
    el("dt", {text: t("ui.network")}), el("dd", {text: doc.network_label || doc.network}),
    el("dt", {text: t("ui.sites_checked")}), el("dd", {text: String(doc.results.length)}));
  // Waiting for the first-run answer (the notice above): no site is checked before it, so no "Check now" either.
  return [title("ui.nav.status"), card, list,
          el("div", {class: "actions"}, doc.awaiting_consent ? null : button,
            el("span", {id: "progress", class: "muted", role: "status"})), facts];
}

export default {route: "status", nav: "ui.nav.status", render};
