// First run: say once, before anything else on the page, that probing sites is visible to the network operator,
// and offer low-profile mode (OONI's informed-consent step). The answer is a setting; the daemon decides when to
// ask (an empty history when it started, no answer stored yet) and probes as before unless low-profile is chosen.
import {el} from "./dom.js";
import {t} from "./i18n.js";
import {icon} from "./icons.js";
import {api, Unauthorised} from "./api.js";
import {hooks} from "./actions.js";
import {announce} from "./widgets.js";

async function answer(body) {
  try {
    await api("/api/settings", {method: "PUT", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    await hooks.reload();
  } catch (e) {
    if (e instanceof Unauthorised) return hooks.loggedOut();
    announce(t("ui.error_detail", {detail: e.key ? t(e.key, e.params) : e.message}));
  }
  return undefined;
}

export function consentNotice(status) {
  if (!status || !status.consent_needed) return null;
  return el("section", {id: "consent", class: "consent", role: "region", "aria-labelledby": "consent-title"},
    el("h2", {id: "consent-title"}, icon("warning"), " ", t("ui.consent.title")),
    el("p", {text: t("ui.consent.body")}),
    el("p", {class: "help", text: t("ui.settings.low_profile_help")}),
    el("div", {class: "actions"},
      el("button", {type: "button", id: "consent-continue", onclick: () => answer({consent: "continue"}),
        text: t("ui.consent.continue")}),
      el("button", {type: "button", id: "consent-low-profile", class: "secondary",
        onclick: () => answer({consent: "low_profile", low_profile: true}), text: t("ui.consent.low_profile")})));
}
