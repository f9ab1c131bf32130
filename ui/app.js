// certguard's front end: renders what the local API says, in the user's language. No framework, no CDN.
// Safety: data from the API (certificate names are chosen by whoever made the certificate, possibly an attacker)
// only ever reaches the page through textContent, never innerHTML.
"use strict";

const STATUS_ICON = {
  ok: "✔", intercepted: "✖", suspicious: "⚠", captive_portal: "⚠", misconfigured: "⚠",
  blocked: "⛔", unreachable: "○", error: "?", offline: "○", unknown: "…",
};
const LANG_NAMES = {en: "English", fr: "Français", ru: "Русский", kk: "Қазақша"};

const state = {lang: "en", messages: {}, languages: [], status: null, settingsDirty: false, authorised: true};

// ---- small helpers ---------------------------------------------------------------------------------------------

function t(key, params) {
  const text = state.messages[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (params && name in params ? String(params[name]) : m));
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function when(iso) {
  if (!iso) return t("ui.never");
  const d = new Date(iso);
  try { return d.toLocaleString(state.lang); } catch (e) { return d.toISOString(); }
}

function duration(fromIso, toIso) {
  const minutes = Math.max(0, Math.round((new Date(toIso || Date.now()) - new Date(fromIso)) / 60000));
  if (minutes < 120) return t("ui.duration.minutes", {n: minutes});
  if (minutes < 48 * 60) return t("ui.duration.hours", {n: Math.round(minutes / 60)});
  return t("ui.duration.days", {n: Math.round(minutes / 1440)});
}

function failureText(r) {
  return t("ui.failure", {failure: r.failure ? t(`failure.${r.failure}`) : "?"});
}

function badge(status) {
  return el("span", {class: `badge badge--${status}`, "data-status": status},
    el("span", {class: "icon", "aria-hidden": "true", text: STATUS_ICON[status] || "•"}), " ",
    t(`status.${status}`));
}

function siteLink(r) {
  return el("a", {href: `#/site/${encodeURIComponent(r.host)}/${r.port}`, text: r.port === 443 ? r.host : `${r.host}:${r.port}`});
}

function announce(text) {
  const live = document.getElementById("live");
  live.textContent = text;
}

// ---- the API ---------------------------------------------------------------------------------------------------

class Unauthorised extends Error {}

async function api(path, options) {
  const opts = Object.assign({credentials: "same-origin", cache: "no-store"}, options || {});
  // The custom header proves to the API that this request comes from certguard's own page (see api.py).
  opts.headers = Object.assign({"X-Certguard": "1"}, opts.headers || {});
  const resp = await fetch(path, opts);
  if (resp.status === 401) throw new Unauthorised();
  const body = await resp.json();
  if (!resp.ok) {
    const err = new Error(body.message || resp.statusText);
    err.status = resp.status;
    err.key = body.key;  // a catalog key when the API can say what is wrong in the user's language
    err.params = body.params;
    throw err;
  }
  return body;
}

const withLang = (path) => path + (path.includes("?") ? "&" : "?") + "lang=" + encodeURIComponent(state.lang);

async function loadLanguage(lang) {
  const doc = await api(lang ? `/i18n?lang=${encodeURIComponent(lang)}` : "/i18n");
  state.lang = doc.lang;
  state.messages = doc.messages;
  state.languages = doc.languages;
  state.status = null;  // its findings and advice were rendered by the API in the previous language
  document.documentElement.lang = doc.lang;
  document.title = t("ui.title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
}

// ---- pages -----------------------------------------------------------------------------------------------------

// The daemon decides the headline (one ordering of statuses, allowed interceptors last); the page only shows it.
function headlineResult(doc) {
  const h = doc.headline || {};
  if (h.host == null) return null;
  return doc.results.find((r) => r.host === h.host && r.port === h.port) || null;
}

function statusPage(doc) {
  const overall = doc.overall;
  const culprit = headlineResult(doc);
  const affected = doc.results.filter((r) => !["ok", "unreachable"].includes(r.status));
  const card = el("section", {class: `verdict verdict--${overall}`, "aria-labelledby": "verdict-title",
                              "data-overall": overall},
    el("div", {class: "verdict-icon", "aria-hidden": "true", text: STATUS_ICON[overall] || "•"}),
    el("div", {class: "verdict-body"},
      el("h2", {id: "verdict-title", text: t(`ui.overall.${overall}`)}),
      el("p", {class: "lead", text: t(`ui.overall_help.${overall}`)}),
      culprit && culprit.interceptor ? el("p", {class: "who"},
        el("strong", {text: t("ui.who") + " "}), culprit.interceptor.name, " — ",
        t(`kind.${culprit.interceptor.kind}`),
        culprit.interceptor.country ? ` (${culprit.interceptor.country})` : "",
        culprit.interceptor.match === "name" ? el("span", {class: "weak", text: " " + t("match.name")}) : null) : null,
      culprit && culprit.advice ? [el("h3", {text: t("ui.what_to_do")}), el("p", {class: "advice", text: culprit.advice})] : null,
      culprit && culprit.allowed ? el("p", {text: t("ui.allowed_note")}) : null,
    ));
  const list = affected.length ? el("section", {"aria-labelledby": "affected-title"},
    el("h3", {id: "affected-title", text: t("ui.affected")}),
    el("ul", {class: "affected"}, affected.map((r) => el("li", {}, siteLink(r), " ", badge(r.status),
      r.allowed ? el("span", {class: "muted", text: " " + t("ui.allowed")}) : null)))) : null;
  const checking = doc.running;
  const button = el("button", {id: "check-now", type: "button", "aria-busy": checking ? "true" : null,
    disabled: checking, onclick: checkNow, text: checking ? t("ui.checking") : t("ui.check_now")});
  const facts = el("dl", {class: "facts"},
    el("dt", {text: t("ui.last_check")}), el("dd", {id: "checked-at", text: when(doc.checked_at)}),
    el("dt", {text: t("ui.network")}), el("dd", {text: doc.network}),
    el("dt", {text: t("ui.sites_checked")}), el("dd", {text: String(doc.results.length)}));
  return [el("h1", {tabindex: "-1", text: t("ui.nav.status")}), card, list,
          el("div", {class: "actions"}, button, el("span", {id: "progress", class: "muted", role: "status"})), facts];
}

function sitesPage(doc) {
  if (!doc.results.length) return [el("h1", {tabindex: "-1", text: t("ui.nav.sites")}), el("p", {text: t("ui.no_results")})];
  const rows = doc.results.map((r) => el("tr", {},
    el("th", {scope: "row"}, siteLink(r)),
    el("td", {}, badge(r.status), r.allowed ? el("span", {class: "muted", text: " " + t("ui.allowed")}) : null),
    el("td", {text: r.interceptor ? r.interceptor.name : (r.chain.length ? r.chain[0].issuer : failureText(r))}),
    el("td", {text: when(r.observed_at)})));
  return [el("h1", {tabindex: "-1", text: t("ui.nav.sites")}),
    el("table", {class: "sites"},
      el("caption", {text: t("ui.sites_caption")}),
      el("thead", {}, el("tr", {}, ["cli.col_site", "cli.col_status", "cli.col_issuer", "ui.col_checked"].map(
        (k) => el("th", {scope: "col", text: t(k)})))),
      el("tbody", {}, rows))];
}

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

function ctText(ct) {
  if (!ct) return t("cli.ct_not_checked");
  const valid = ct.scts.filter((s) => s.valid).length;
  if (ct.policy_met) return t("cli.ct_ok", {valid});
  return t("cli.ct_failed") + (ct.reasons.length ? ` (${ct.reasons.join("; ")})` : "");
}

async function sitePage(host, port) {
  const doc = state.status;
  const r = doc.results.find((x) => x.host === host && String(x.port) === String(port));
  const title = el("h1", {tabindex: "-1", text: port === "443" ? host : `${host}:${port}`});
  if (!r) return [title, el("p", {text: t("ui.no_results")})];
  const hist = await api(`/api/history?host=${encodeURIComponent(host)}`);
  const out = [el("p", {}, el("a", {href: "#/sites", text: "← " + t("ui.nav.sites")})), title,
    el("p", {class: "site-status"}, badge(r.status), " ", el("span", {class: "muted", text: when(r.observed_at)}))];
  if (r.interceptor) {
    out.push(el("p", {class: "who"}, el("strong", {text: t("ui.who") + " "}), r.interceptor.name, " — ",
      t(`kind.${r.interceptor.kind}`), ` (${t(`match.${r.interceptor.match}`)})`));
  }
  if (r.advice) out.push(el("h2", {text: t("ui.what_to_do")}), el("p", {class: "advice", text: r.advice}));
  out.push(el("h2", {text: t("ui.findings")}));
  out.push(r.findings.length ? el("ul", {class: "findings"}, r.findings.map((f) => el("li", {class: `sev--${f.severity}`},
    el("span", {class: "sev", text: t(`ui.severity.${f.severity}`) + ": "}), f.message,
    el("code", {class: "rule", text: " " + f.id})))) : el("p", {text: t("ui.no_findings")}));
  out.push(el("h2", {text: t("ui.chain.title")}));
  out.push(r.chain.length ? el("ol", {class: "chain"}, r.chain.map((c, i) => certCard(c, i, r)))
    : el("p", {text: failureText(r)}));
  out.push(el("h2", {text: t("ui.checks")}), el("ul", {},
    el("li", {text: r.public_anchor ? t("ui.anchor_public", {name: r.public_anchor_subject || r.public_anchor})
                                    : t("ui.anchor_none")}),
    r.device_anchor ? el("li", {text: t("ui.anchor_device", {name: r.device_anchor_subject || r.device_anchor})}) : null,
    el("li", {text: pinsText(r.pins)}), el("li", {text: ctText(r.ct)}),
    r.tls ? el("li", {text: `TLS: ${r.tls.version}, ${r.tls.cipher}`}) : null,
    r.address ? el("li", {text: t("ui.address", {address: r.address})}) : null));
  out.push(el("h2", {text: t("ui.nav.history")}));
  out.push(hist.history.length ? el("table", {class: "history"},
    el("thead", {}, el("tr", {}, ["cli.col_status", "ui.network", "ui.col_from", "ui.col_to", "ui.col_seen"].map(
      (k) => el("th", {scope: "col", text: t(k)})))),
    el("tbody", {}, hist.history.map((h) => el("tr", {}, el("td", {}, badge(h.status)), el("td", {text: h.network}),
      el("td", {text: when(h.first_seen)}), el("td", {text: when(h.last_seen)}), el("td", {text: String(h.seen)})))))
    : el("p", {text: t("ui.no_history")}));
  return out;
}

async function devicePage() {
  const doc = await api(withLang("/api/audit"));
  const out = [el("h1", {tabindex: "-1", text: t("ui.nav.device")}), el("p", {class: "lead", text: t("ui.device_intro")})];
  if (!doc.available) return out.concat(el("p", {text: t("ui.device_unavailable")}));
  const s = doc.summary;
  out.push(el("p", {class: "summary", text: t("audit.summary", Object.assign({trusted: s.trusted_interceptors}, s))}));
  const shown = doc.roots.filter((r) => r.verdict !== "expected" && !r.distribution);
  if (!shown.length) out.push(el("p", {class: "good", text: "✔ " + t("ui.device_clean")}));
  for (const r of shown) {
    out.push(el("article", {class: `root root--${r.verdict}`},
      el("h2", {}, el("span", {class: "icon", "aria-hidden": "true", text: r.verdict === "interceptor" ? "✖ " : "! "}), r.subject),
      el("p", {}, el("strong", {text: t(`audit.verdict.${r.verdict}`)}),
        r.interceptor ? ` — ${r.interceptor.name} (${t(`kind.${r.interceptor.kind}`)})` : ""),
      el("ul", {}, r.locations.map((loc) => el("li", {text: `${loc.location} — ${t(`audit.trust.${loc.trust}`)}`}))),
      r.anchored.length ? el("p", {text: t("audit.anchored", {hosts: r.anchored.join(", ")})}) : null,
      el("p", {class: "hash", text: `SHA-256 ${r.sha256}`}),
      r.how_to_remove ? el("details", {}, el("summary", {text: t("audit.how_to_remove")}),
        Object.values(r.how_to_remove).map((text) => el("p", {text}))) : null));
  }
  if (s.expected) out.push(el("p", {class: "muted", text: t("audit.expected_hidden", {count: s.expected})}));
  if (s.distribution_outdated) out.push(el("p", {class: "muted", text: t("audit.distribution_outdated", {count: s.distribution_outdated})}));
  for (const p of doc.problems) out.push(el("p", {class: "problem", text: t("audit.problem", p)}));
  return out;
}

async function historyPage() {
  const doc = await api("/api/episodes");
  const out = [el("h1", {tabindex: "-1", text: t("ui.nav.history")}), el("p", {class: "lead", text: t("ui.history_intro")})];
  if (!doc.episodes.length) return out.concat(el("p", {class: "good", text: "✔ " + t("ui.no_episodes")}));
  const byNetwork = new Map();
  for (const e of doc.episodes) {
    if (!byNetwork.has(e.network)) byNetwork.set(e.network, []);
    byNetwork.get(e.network).push(e);
  }
  const now = Date.now();
  for (const [network, episodes] of byNetwork) {
    const start = Math.min(...episodes.map((e) => new Date(e.started_at).getTime()));
    const span = Math.max(now - start, 3600000);
    out.push(el("section", {class: "network"},
      el("h2", {text: t("ui.network") + ": " + network}),
      // The bar is a picture of the list below it (which carries the same facts as text).
      el("div", {class: "timeline", "aria-hidden": "true"}, episodes.map((e) => {
        const from = (new Date(e.started_at).getTime() - start) / span * 100;
        const to = ((e.ended_at ? new Date(e.ended_at).getTime() : now) - start) / span * 100;
        return el("span", {class: `bar bar--${e.kind || "unknown"}`, "data-left": from.toFixed(2),
                           "data-width": Math.max(to - from, 0.8).toFixed(2), title: e.culprit || ""});
      })),
      el("ul", {class: "episodes"}, episodes.map((e) => el("li", {},
        badge(e.status), " ", el("strong", {text: e.culprit || t("kind.unknown")}),
        e.kind ? ` (${t(`kind.${e.kind}`)})` : "",
        el("br"), t("ui.episode_hosts", {hosts: e.hosts.join(", ")}), el("br"),
        e.ended_at ? t("ui.episode_range", {from: when(e.started_at), to: when(e.ended_at), duration: duration(e.started_at, e.ended_at)})
          : el("strong", {text: t("ui.episode_ongoing", {from: when(e.started_at), duration: duration(e.started_at, null)})}))))));
  }
  return out;
}

function ruleRow(rule) {
  const row = el("li", {class: "rule-row"},
    el("label", {}, t("ui.settings.allow_interceptor"), " ",
      el("input", {type: "text", name: "interceptor", value: rule.interceptor || "", required: true})),
    el("label", {}, t("ui.settings.allow_network"), " ",
      el("input", {type: "text", name: "network", value: rule.network || "*"})),
    el("label", {}, t("ui.settings.allow_note"), " ",
      el("input", {type: "text", name: "note", value: rule.note || ""})),
    el("button", {type: "button", class: "small", onclick: () => { row.remove(); state.settingsDirty = true; },
      text: t("ui.settings.remove")}));
  return row;
}

async function settingsPage() {
  const s = await api("/api/settings");
  const rules = el("ul", {id: "rules", class: "rules"}, s.allow.map(ruleRow));
  const langSelect = el("select", {id: "language", name: "language"},
    el("option", {value: "", text: t("ui.settings.language_auto")}),
    state.languages.map((code) => el("option", {value: code, lang: code, text: LANG_NAMES[code] || code})));
  langSelect.value = s.language || "";
  const form = el("form", {id: "settings", novalidate: true, onsubmit: saveSettings, oninput: () => { state.settingsDirty = true; }},
    el("fieldset", {},
      el("legend", {text: t("ui.settings.checks")}),
      el("label", {for: "interval", text: t("ui.settings.interval")}),
      el("input", {id: "interval", name: "interval", type: "number", min: "1", max: "1440", step: "1",
                   value: String(Math.round(s.interval / 60)), "aria-describedby": "interval-help", required: true}),
      el("p", {id: "interval-help", class: "help", text: t("ui.settings.interval_help")}),
      el("label", {for: "sites", text: t("ui.settings.sites")}),
      el("textarea", {id: "sites", name: "sites", rows: "6", "aria-describedby": "sites-help", spellcheck: "false"},
        s.sites.join("\n")),
      el("p", {id: "sites-help", class: "help", text: t("ui.settings.sites_help")}),
      el("div", {class: "check"}, el("input", {id: "low_profile", name: "low_profile", type: "checkbox", checked: s.low_profile,
        "aria-describedby": "low-help"}), el("label", {for: "low_profile", text: t("ui.settings.low_profile")})),
      el("p", {id: "low-help", class: "help warn", text: t("ui.settings.low_profile_help")})),
    el("fieldset", {},
      el("legend", {text: t("ui.settings.alerts")}),
      el("div", {class: "check"}, el("input", {id: "quiet", name: "quiet", type: "checkbox", checked: s.quiet,
        "aria-describedby": "quiet-help"}), el("label", {for: "quiet", text: t("ui.settings.quiet")})),
      el("p", {id: "quiet-help", class: "help", text: t("ui.settings.quiet_help")}),
      el("h3", {text: t("ui.settings.allow")}),
      el("p", {class: "help", text: t("ui.settings.allow_help")}),
      rules,
      el("button", {type: "button", class: "small", onclick: () => { rules.append(ruleRow({})); state.settingsDirty = true; },
        text: t("ui.settings.add_rule")})),
    el("fieldset", {},
      el("legend", {text: t("ui.settings.language")}),
      el("label", {for: "language", text: t("ui.settings.language")}), langSelect),
    el("div", {class: "actions"}, el("button", {type: "submit", id: "save", text: t("ui.settings.save")}),
      el("span", {id: "save-result", role: "status", "aria-live": "polite"})));
  state.settingsDirty = false;
  return [el("h1", {tabindex: "-1", text: t("ui.nav.settings")}), form];
}

async function saveSettings(event) {
  event.preventDefault();
  const form = event.target;
  const result = document.getElementById("save-result");
  const minutes = Number(form.interval.value);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    result.textContent = t("ui.settings.bad_interval");
    form.interval.setAttribute("aria-invalid", "true");
    form.interval.focus();
    return;
  }
  form.interval.removeAttribute("aria-invalid");
  const allow = [...form.querySelectorAll(".rule-row")].map((row) => ({
    interceptor: row.querySelector("[name=interceptor]").value.trim(),
    network: row.querySelector("[name=network]").value.trim() || "*",
    note: row.querySelector("[name=note]").value.trim(),
  })).filter((r) => r.interceptor);
  const body = {
    interval: Math.max(60, minutes * 60),
    sites: form.sites.value.split("\n").map((x) => x.trim()).filter(Boolean),
    low_profile: form.low_profile.checked,
    quiet: form.quiet.checked,
    allow,
    language: form.language.value || null,
  };
  try {
    await api("/api/settings", {method: "PUT", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    state.settingsDirty = false;
    sessionStorage.removeItem("certguard.lang");  // the saved choice wins over a one-off --lang
    await loadLanguage(body.language);
    await route();
    document.getElementById("save-result").textContent = "✔ " + t("ui.settings.saved");
  } catch (e) {
    if (e instanceof Unauthorised) return showLoggedOut();
    result.textContent = t("ui.settings.failed", {detail: e.key ? t(e.key, e.params) : e.message});
  }
}

// ---- routing and live updates ----------------------------------------------------------------------------------

async function refreshStatus() {
  state.status = await api(withLang("/api/status"));
  document.getElementById("version").textContent = `certguard ${state.status.version}`;
}

async function route() {
  const main = document.getElementById("main");
  const parts = (location.hash.replace(/^#\/?/, "") || "status").split("/").map(decodeURIComponent);
  const page = parts[0];
  for (const a of document.querySelectorAll("nav a")) {
    const current = a.dataset.route === page || (page === "site" && a.dataset.route === "sites");
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  let content;
  try {
    if (!state.status) await refreshStatus();
    if (page === "sites") content = sitesPage(state.status);
    else if (page === "site") content = await sitePage(parts[1] || "", parts[2] || "443");
    else if (page === "device") content = await devicePage();
    else if (page === "history") content = await historyPage();
    else if (page === "settings") content = await settingsPage();
    else content = statusPage(state.status);
  } catch (e) {
    if (e instanceof Unauthorised) return showLoggedOut();
    content = [el("h1", {tabindex: "-1", text: t("ui.error_title")}), el("p", {text: t("ui.error_detail", {detail: e.message})})];
  }
  main.replaceChildren(...content.flat().filter(Boolean));
  for (const bar of main.querySelectorAll(".bar")) {  // CSP forbids inline styles in markup; set them from script
    bar.style.left = bar.dataset.left + "%";
    bar.style.width = bar.dataset.width + "%";
  }
  document.documentElement.dataset.page = page;
  document.documentElement.dataset.ready = state.status && state.status.checked_at ? "1" : "0";
  return undefined;
}

function onNavigate() {
  const h1 = document.querySelector("main h1");
  route().then(() => { const first = document.querySelector("main h1"); if (first && first !== h1) first.focus(); });
}

async function checkNow() {
  const button = document.getElementById("check-now");
  if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); button.textContent = t("ui.checking"); }
  try {
    await api("/api/check", {method: "POST"});
  } catch (e) {
    if (e instanceof Unauthorised) return showLoggedOut();
    announce(t("ui.error_detail", {detail: e.message}));
  }
  return undefined;
}

function showLoggedOut() {
  state.authorised = false;
  document.documentElement.dataset.ready = "0";
  document.getElementById("main").replaceChildren(
    el("h1", {tabindex: "-1", text: t("ui.logged_out_title")}),
    el("p", {text: t("ui.logged_out")}), el("pre", {text: "certguard ui\ncertguard ui --browser"}));
}

function listen() {
  const source = new EventSource("/api/events");
  source.addEventListener("check_started", (e) => {
    const data = JSON.parse(e.data);
    const progress = document.getElementById("progress");
    const text = t("ui.checking_count", {count: data.targets});
    if (progress) progress.textContent = text;
    announce(text);
    const button = document.getElementById("check-now");
    if (button) { button.disabled = true; button.textContent = t("ui.checking"); }
  });
  source.addEventListener("status", async () => {
    const before = state.status ? state.status.overall : null;
    try {
      await refreshStatus();
    } catch (e) {
      if (e instanceof Unauthorised) showLoggedOut(); else announce(t("ui.error_detail", {detail: e.message}));
      return;
    }
    if (before !== state.status.overall) announce(t("ui.changed", {status: t(`ui.overall.${state.status.overall}`)}));
    else announce(t("ui.checked"));
    const page = document.documentElement.dataset.page;
    if (page !== "settings" || !state.settingsDirty) await route();
  });
  source.addEventListener("network_changed", () => announce(t("ui.network_changed")));
  source.addEventListener("open", () => {
    if (document.body.classList.contains("disconnected")) announce("");
    document.body.classList.remove("disconnected");
  });
  source.addEventListener("error", async () => {
    document.body.classList.add("disconnected");
    announce(t("ui.disconnected"));
    if (source.readyState !== EventSource.CLOSED) return;  // the browser retries by itself
    // Closed for good: the service refused the stream (a restarted daemon forgets its sessions) or is gone.
    try {
      await refreshStatus();
      setTimeout(listen, 5000);
    } catch (e) {
      if (e instanceof Unauthorised) showLoggedOut(); else setTimeout(listen, 5000);
    }
  });
}

async function start() {
  const params = new URLSearchParams(location.search);
  if (params.get("lang")) {
    // `certguard ui --lang xx` for this window only; the address bar is tidied (no query left behind).
    sessionStorage.setItem("certguard.lang", params.get("lang"));
    history.replaceState(null, "", "/" + location.hash);
  }
  try {
    await loadLanguage(sessionStorage.getItem("certguard.lang"));
  } catch (e) {
    if (e instanceof Unauthorised) return showLoggedOut();
    throw e;
  }
  window.addEventListener("hashchange", onNavigate);
  await route();
  if (state.authorised) listen();
  return undefined;
}

document.addEventListener("DOMContentLoaded", start);
