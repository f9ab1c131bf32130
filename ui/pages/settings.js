// Settings: sites, interval, low-profile mode, quiet mode, allow rules, language. Saved through PUT /api/settings.
import {el} from "../lib/dom.js";
import {LANG_NAMES, languages, t} from "../lib/i18n.js";
import {icon} from "../lib/icons.js";
import {api, Unauthorised, withLang} from "../lib/api.js";
import {state} from "../lib/state.js";
import {hooks} from "../lib/actions.js";
import {title} from "../lib/widgets.js";

const dirty = () => { state.settingsDirty = true; };

// The network of an allow rule, picked from the networks this device has been on (named for people by the daemon;
// the value is the daemon's pattern for exactly that network), "any network", or a pattern the rule already has
// (written by hand in the settings file): kept, never dropped.
function networkPicker(chosen, networks) {
  const options = [el("option", {value: "*", text: t("network.any")})];
  for (const n of networks) {
    options.push(el("option", {value: n.rule, text: n.current ? t("network.current", {label: n.label}) : n.label}));
  }
  if (chosen !== "*" && !networks.some((n) => n.rule === chosen)) {
    options.push(el("option", {value: chosen, text: t("network.pattern", {pattern: chosen})}));
  }
  const select = el("select", {name: "network"}, options);
  select.value = chosen;
  return select;
}

function ruleRow(rule, networks) {
  const row = el("li", {class: "rule-row"},
    el("label", {}, t("ui.settings.allow_interceptor"), " ",
      el("input", {type: "text", name: "interceptor", value: rule.interceptor || "", required: true})),
    el("label", {}, t("ui.settings.allow_network"), " ", networkPicker(rule.network || "*", networks)),
    el("label", {}, t("ui.settings.allow_note"), " ",
      el("input", {type: "text", name: "note", value: rule.note || ""})),
    el("button", {type: "button", class: "small", onclick: () => { row.remove(); dirty(); },
      text: t("ui.settings.remove")}));
  return row;
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
    network: row.querySelector("[name=network]").value || "*",
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
  // Only a changed language choice replaces a one-off `certguard ui --lang`: saving the interval must not
  // switch the window back to the system language.
  const languageChanged = form.language.value !== form.language.dataset.saved;
  try {
    await api("/api/settings", {method: "PUT", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    state.settingsDirty = false;
    await hooks.reload(languageChanged ? body.language : undefined);
    const saved = document.getElementById("save-result");
    saved.replaceChildren(icon("ok"), " ", t("ui.settings.saved"));
  } catch (e) {
    if (e instanceof Unauthorised) return hooks.loggedOut();
    result.textContent = t("ui.settings.failed", {detail: e.key ? t(e.key, e.params) : e.message});
  }
  return undefined;
}

// With no sites of its own the daemon checks its --sites file or the built-in list: say which (the daemon computed
// it), so an empty box does not read as "nothing is watched".
function watched(s) {
  if (s.sites.length || !s.watched) return null;
  return el("div", {id: "watched", class: "help"},
    el("p", {text: t("ui.settings.watched", {count: s.watched.length})}),
    el("ul", {class: "watched"}, s.watched.map((label) => el("li", {text: label}))),
    s.skipped && s.skipped.length ? el("p", {text: t("ui.settings.skipped", {sites: s.skipped.join(", ")})}) : null);
}

async function render() {
  const s = await api(withLang("/api/settings"));  // withLang: networks are named in the page's language
  const networks = s.networks || [];
  const rules = el("ul", {id: "rules", class: "rules"}, s.allow.map((rule) => ruleRow(rule, networks)));
  const langSelect = el("select", {id: "language", name: "language"},
    el("option", {value: "", text: t("ui.settings.language_auto")}),
    languages().map((code) => el("option", {value: code, lang: code, text: LANG_NAMES[code] || code})));
  langSelect.value = s.language || "";
  langSelect.dataset.saved = langSelect.value;
  const form = el("form", {id: "settings", novalidate: true, onsubmit: saveSettings, oninput: dirty},
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
      watched(s),
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
      el("button", {type: "button", class: "small", onclick: () => { rules.append(ruleRow({}, networks)); dirty(); },
        text: t("ui.settings.add_rule")})),
    el("fieldset", {},
      el("legend", {text: t("ui.settings.language")}),
      el("label", {for: "language", text: t("ui.settings.language")}), langSelect),
    el("div", {class: "actions"}, el("button", {type: "submit", id: "save", text: t("ui.settings.save")}),
      el("span", {id: "save-result", role: "status", "aria-live": "polite"})));
  state.settingsDirty = false;
  return [title("ui.nav.settings"), form];
}

// While the user edits, a live update must not throw their input away.
export default {route: "settings", nav: "ui.nav.settings", render, holdLiveUpdates: () => state.settingsDirty};
