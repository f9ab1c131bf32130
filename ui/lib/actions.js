// What buttons on several pages do. The result arrives through the event stream (main.js re-renders).
import {api, Unauthorised} from "./api.js";
import {t} from "./i18n.js";
import {announce} from "./widgets.js";

// main.js fills these in (pages must not import main.js: it imports them).
export const hooks = {loggedOut: () => {}, reload: async () => {}};

export function markChecking() {
  const button = document.getElementById("check-now");
  if (!button) return;
  button.setAttribute("aria-disabled", "true");
  button.setAttribute("aria-busy", "true");
  button.textContent = t("ui.checking");
}

export async function checkNow() {
  const button = document.getElementById("check-now");
  if (button && button.getAttribute("aria-disabled") === "true") return undefined;  // a round is running
  markChecking();
  try {
    await api("/api/check", {method: "POST"});
  } catch (e) {
    if (e instanceof Unauthorised) return hooks.loggedOut();
    announce(t("ui.error_detail", {detail: e.message}));
  }
  return undefined;
}
