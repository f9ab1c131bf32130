// Device: the trust-store audit, with where each extra root is installed and how to remove it.
import {el} from "../lib/dom.js";
import {t} from "../lib/i18n.js";
import {icon} from "../lib/icons.js";
import {api, withLang} from "../lib/api.js";
import {title} from "../lib/widgets.js";

// The interceptor's name in the page's language (display_name); the raw intel name from an older daemon.
const interceptorName = (i) => i.display_name || i.name;
// Where a root is installed, in the page's language (label); the raw location from an older daemon.
const placeName = (loc) => loc.label || loc.location;

// A plain title: the product's name when certguard knows it, else the CA's common name; the DN stays below.
function plainTitle(r) {
  if (r.interceptor) return interceptorName(r.interceptor);
  const cn = /(?:^|,\s*)CN=([^,]+)/.exec(r.subject);
  return cn ? cn[1] : r.subject;
}

async function render(focus) {
  const doc = await api(withLang("/api/audit"));
  const out = [title("ui.nav.device"), el("p", {class: "lead", text: t("ui.device_intro")})];
  if (!doc.available) return out.concat(el("p", {text: t("ui.device_unavailable")}));
  const s = doc.summary;
  const shown = doc.roots.filter((r) => r.verdict !== "expected" && !r.distribution);
  // The headline and the counts describe the cards below (the audit's verdicts, counted as shown): roots hidden
  // as Mozilla's or as the distribution's outdated copy are the two lines at the end, not numbers up here.
  const interceptors = shown.filter((r) => r.verdict === "interceptor");
  const trusted = interceptors.some((r) => r.locations.some((loc) => loc.trust === "trusted"));
  const extra = shown.length - interceptors.length;
  if (shown.length) {
    const key = trusted ? "ui.device.headline.trusted_interceptor" : interceptors.length ? "ui.device.headline.interceptor"
      : "ui.device.headline.extra";
    out.push(el("h2", {id: "device-headline", class: `device-headline device-headline--${trusted || interceptors.length ? "bad" : "warn"}`},
      icon(interceptors.length ? "intercepted" : "warning"), " ", t(key)));
    out.push(el("p", {class: "summary", text: t("ui.device.counts", {interceptors: interceptors.length, extra})}));
  } else {
    out.push(el("p", {class: "good", id: "device-headline"}, icon("ok"), " ", t("ui.device_clean")));
  }
  for (const r of shown) {
    out.push(el("article", {class: `root root--${r.verdict}${focus === r.sha256 ? " focused" : ""}`, id: `root-${r.sha256}`},
      el("h2", {tabindex: "-1"}, icon(r.verdict === "interceptor" ? "intercepted" : "warning"), " ", plainTitle(r)),
      el("p", {class: "dn", text: r.subject}),
      el("p", {}, el("strong", {text: t(`audit.verdict.${r.verdict}`)}),
        r.interceptor ? ` — ${interceptorName(r.interceptor)} (${t(`kind.${r.interceptor.kind}`)})` : ""),
      el("ul", {}, r.locations.map((loc) => el("li", {text: `${placeName(loc)} — ${t(`audit.trust.${loc.trust}`)}`}))),
      r.anchored.length ? el("p", {text: t("audit.anchored", {hosts: r.anchored.join(", ")})}) : null,
      (r.signed_sites || []).length ? el("p", {class: "signed", text: t("ui.device.signed_sites", {hosts: r.signed_sites.join(", ")})}) : null,
      el("p", {class: "hash", text: `SHA-256 ${r.sha256}`}),
      r.how_to_remove ? el("details", {}, el("summary", {text: t("audit.how_to_remove")}),
        Object.values(r.how_to_remove).map((text) => el("p", {text}))) : null));
  }
  if (s.expected) out.push(el("p", {class: "muted", text: t("audit.expected_hidden", {count: s.expected})}));
  if (s.distribution_outdated) out.push(el("p", {class: "muted", text: t("audit.distribution_outdated", {count: s.distribution_outdated})}));
  for (const p of doc.problems) out.push(el("p", {class: "problem", text: t("audit.problem", {...p, message: p.text || p.message, location: placeName(p)})}));
  // Facts worth telling, such as a Firefox that also trusts the system's roots (enterprise_roots).
  for (const n of doc.notes || []) out.push(el("p", {class: "note", text: t("audit.note", {message: n.text || n.message, location: placeName(n)})}));
  return out;
}

// #/device/<sha256> (the Status page's link) opens with that root's card in view and focused.
function focusRoot(sha) {
  const card = sha && document.getElementById(`root-${sha}`);
  if (card) { card.scrollIntoView({block: "start"}); card.querySelector("h2").focus(); }
}

export default {route: "device", nav: "ui.nav.device", render, after: focusRoot};
