// One site: its status, who, what to do, findings, the served chain, the checks, its history.
import {el} from "../lib/dom.js";
import {t} from "../lib/i18n.js";
import {siteLabel, when} from "../lib/format.js";
import {api, networkNames, withLang} from "../lib/api.js";
import {state} from "../lib/state.js";
import {badge, failureText, hostText} from "../lib/widgets.js";

function certCard(c, i, r) {
  const role = i === 0 ? t("ui.chain.leaf") : (c.is_ca && c.subject === c.issuer ? t("ui.chain.root") : t("ui.chain.ca"));
  const marks = [];
  if (c.sha256 === r.public_anchor) marks.push(t("ui.chain.public_anchor"));
  if (c.sha256 === r.device_anchor) marks.push(t("ui.chain.device_anchor"));
  if (r.interceptor && r.interceptor.certificate_sha256 === c.sha256) marks.push(t("ui.chain.interceptor", {name: r.interceptor.name}));
  return el("li", {class: "cert"},
    el("h4", {}, `${i + 1}. ${role}`, marks.length ? el("span", {class: "marks", text: " — " + marks.join("; ")}) : null),
    el("dl", {},
      el("dt", {text: t("ui.chain.subject")}), el("dd", {text: c.subject}),
      el("dt", {text: t("ui.chain.issuer")}), el("dd", {text: c.issuer}),
      el("dt", {text: t("ui.chain.valid")}), el("dd", {text: t("ui.chain.valid_range", {from: when(c.not_before), to: when(c.not_after)})}),
      c.dns_names.length ? [el("dt", {text: t("ui.chain.names")}), el("dd", {text: c.dns_names.join(", ")})] : null,
      el("dt", {text: "SHA-256"}), el("dd", {class: "hash", text: c.sha256}),
      el("dt", {text: t("ui.chain.spki")}), el("dd", {class: "hash", text: c.spki_sha256})));
}

function pinsText(p) {
  if (!p.pinset) return t("ui.pins.none");
  if (p.matched === true) return t("ui.pins.matched", {pinset: p.pinset});
  if (p.matched === false) return t("ui.pins.mismatch", {pinset: p.pinset});
  return t("ui.pins.not_checked", {pinset: p.pinset});
}

// In the window's own words: no CLI command to run (the CLI's texts name one).
export function ctText(ct) {
  if (!ct) return t("ui.ct.not_checked");
  const valid = ct.scts.filter((s) => s.valid).length;
  if (!ct.enforced) return t("ui.ct.not_counted", {valid, version: ct.log_list_version});
  if (ct.policy_met) return t("cli.ct_ok", {valid});
  return t("cli.ct_failed") + (ct.reasons.length ? ` (${ct.reasons.join("; ")})` : "");
}

async function render(host = "", port = "443") {
  const doc = state.status;
  const r = doc.results.find((x) => x.host === host && String(x.port) === String(port));
  const heading = el("h1", {tabindex: "-1", class: "host"}, hostText(siteLabel(host, port)));
  if (!r) return [heading, el("p", {text: t("ui.no_results")})];
  const hist = await api(`/api/history?host=${encodeURIComponent(host)}`);
  const networkName = await networkNames();
  // What the browser companion saw for this host; the daemon decided whether it differs from its own probe.
  const seen = await api(withLang(`/api/observed?host=${encodeURIComponent(host)}`));
  const diff = (seen.observed || []).map((o) => o.difference).find((d) => d);
  const out = [el("p", {}, el("a", {href: "#/sites", text: "← " + t("ui.nav.sites")})), heading,
    el("p", {class: "site-status"}, badge(r.status), " ", el("span", {class: "muted", text: when(r.observed_at)}))];
  if (diff) {
    out.push(el("section", {class: "difference", role: "note"},
      el("h2", {text: t("ui.popup.difference")}), el("p", {text: diff.message})));
  }
  if (r.interceptor) {
    out.push(el("p", {class: "who"}, el("strong", {text: t("ui.who") + " "}), r.interceptor.name, " — ",
      t(`kind.${r.interceptor.kind}`), ` (${t(`match.${r.interceptor.match}`)})`));
  }
  if (r.advice) out.push(el("h2", {text: t("ui.what_to_do")}), el("p", {class: "advice", text: r.advice}));
  out.push(el("h2", {text: t("ui.findings")}));
  out.push(r.findings.length ? el("ul", {class: "findings"}, r.findings.map((f) => el("li", {class: `sev--${f.severity}`},
    el("span", {class: "sev", text: t("ui.finding_severity", {severity: t(`ui.severity.${f.severity}`)})}), f.message,
    el("code", {class: "rule", text: " " + f.id})))) : el("p", {text: t("ui.no_findings")}));
  out.push(el("h2", {text: t("ui.chain.title")}));
  out.push(r.chain.length ? el("ol", {class: "chain"}, r.chain.map((c, i) => certCard(c, i, r)))
    : el("p", {text: failureText(r)}));
  // No chain, no chain checks: a blocked or unreachable site's anchors, pins and CT were never looked at, so the
  // section says why instead of listing checks that did not happen.
  out.push(el("h2", {text: t("ui.checks")}), !r.chain.length ? el("p", {class: "checks-failure"}, failureText(r),
    r.address ? [" ", t("ui.address", {address: r.address})] : null) : el("ul", {class: "checks"},
    el("li", {text: r.public_anchor ? t("ui.anchor_public", {name: r.public_anchor_subject || r.public_anchor})
                                    : t("ui.anchor_none")}),
    r.device_anchor ? el("li", {text: t("ui.anchor_device", {name: r.device_anchor_subject || r.device_anchor})}) : null,
    el("li", {text: pinsText(r.pins)}), el("li", {text: ctText(r.ct)}),
    r.tls ? el("li", {text: `TLS: ${r.tls.version}, ${r.tls.cipher}`}) : null,
    r.address ? el("li", {text: t("ui.address", {address: r.address})}) : null));
  out.push(el("h2", {text: t("ui.nav.history")}));
  out.push(hist.history.length ? el("div", {class: "scroll"}, el("table", {class: "history"},
    el("thead", {}, el("tr", {}, ["cli.col_status", "ui.network", "ui.col_from", "ui.col_to", "ui.col_seen"].map(
      (k) => el("th", {scope: "col", text: t(k)})))),
    el("tbody", {}, hist.history.map((h) => el("tr", {}, el("td", {}, badge(h.status)), el("td", {text: networkName(h.network)}),
      el("td", {text: when(h.first_seen)}), el("td", {text: when(h.last_seen)}), el("td", {text: String(h.seen)}))))))
    : el("p", {text: t("ui.no_history")}));
  return out;
}

// Not in the navigation: reached from Sites (which it highlights) and from Status.
export default {route: "site", nav: null, parent: "sites", render};
