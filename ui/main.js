// certguard's front end, entry point: boot (language, login state), routing through the page registry, and live
// updates from the event stream. Renders what the local API says, in the user's language; no framework, no CDN.
import {el} from "./lib/dom.js";
import {setCatalog, t} from "./lib/i18n.js";
import {icon} from "./lib/icons.js";
import {parseHash} from "./lib/format.js";
import {api, Unauthorised, withLang} from "./lib/api.js";
import {state} from "./lib/state.js";
import {hooks, markChecking} from "./lib/actions.js";
import {announce} from "./lib/widgets.js";
import {consentNotice} from "./lib/consent.js";
import {PAGES} from "./pages/index.js";

const ONE_OFF_LANG = "certguard.lang";  // `certguard ui --lang xx`: this window only (sessionStorage)

async function loadLanguage(code) {
  const doc = await api(code ? `/i18n?lang=${encodeURIComponent(code)}` : "/i18n");
  setCatalog(doc);
  state.status = null;  // its findings and advice were rendered by the API in the previous language
  document.documentElement.lang = doc.lang;
  document.title = t("ui.title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
}

function buildNav() {
  const list = document.querySelector("nav ul");
  list.replaceChildren(...PAGES.filter((p) => p.nav).map((p) => el("li", {},
    el("a", {href: `#/${p.route}`, "data-route": p.route, "data-i18n": p.nav, text: p.nav}))));
}

async function refreshStatus() {
  state.status = await api(withLang("/api/status"));
  document.getElementById("version").textContent = `certguard ${state.status.version}`;
}

// The focused element (by id) survives a re-render: a keyboard user's place is not lost to a live update.
function focusedId() {
  const active = document.activeElement;
  return active && active !== document.body && active.id && document.getElementById("main").contains(active) ? active.id : null;
}

async function route() {
  const main = document.getElementById("main");
  const {page: name, params} = parseHash(location.hash, PAGES[0].route);
  const page = PAGES.find((p) => p.route === name) || PAGES[0];
  for (const a of document.querySelectorAll("nav a")) {
    const current = a.dataset.route === page.route || a.dataset.route === page.parent;
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  let content;
  try {
    if (!state.status) await refreshStatus();
    content = await page.render(...params);
  } catch (e) {
    if (e instanceof Unauthorised) return showLoggedOut();
    content = [el("h1", {tabindex: "-1", text: t("ui.error_title")}), el("p", {text: t("ui.error_detail", {detail: e.message})})];
  }
  const keep = focusedId();
  const nodes = [content].flat(Infinity).filter(Boolean);
  // The first-run notice goes after the page's heading and first block (on Status, the verdict and what to do),
  // so that it never pushes the safety advice off a phone's first screen.
  const notice = consentNotice(state.status);
  if (notice) nodes.splice(Math.min(2, nodes.length), 0, notice);
  main.replaceChildren(...nodes);
  for (const node of main.querySelectorAll("[data-left]")) {  // CSP forbids inline styles in markup; set them here
    node.style.left = node.dataset.left + "%";
    if (node.dataset.width) node.style.width = node.dataset.width + "%";
  }
  if (keep && document.getElementById(keep)) document.getElementById(keep).focus();
  else if (page.after) page.after(...params);
  document.documentElement.dataset.page = page.route;
  document.documentElement.dataset.ready = state.status && state.status.checked_at ? "1" : "0";
  return undefined;
}

function onNavigate() {
  const h1 = document.querySelector("main h1");
  route().then(() => {
    // The new page's heading takes the focus, unless the page put it somewhere itself (a linked Device root).
    const main = document.getElementById("main");
    const first = document.querySelector("main h1");
    if (first && first !== h1 && !main.contains(document.activeElement)) first.focus();
  });
}

function showLoggedOut() {
  state.authorised = false;
  document.documentElement.dataset.ready = "0";
  document.getElementById("main").replaceChildren(
    el("h1", {tabindex: "-1", text: t("ui.logged_out_title")}),
    el("p", {text: t("ui.logged_out")}), el("pre", {text: "certguard ui\ncertguard ui --browser"}));
}

function setDisconnected(yes) {
  document.body.classList.toggle("disconnected", yes);
  const live = document.getElementById("live");
  if (yes) live.replaceChildren(icon("warning"), t("ui.disconnected"));
}

function listen() {
  const source = new EventSource("/api/events");
  source.addEventListener("check_started", (e) => {
    const data = JSON.parse(e.data);
    const progress = document.getElementById("progress");
    const text = t("ui.checking_count", {count: data.targets});
    if (progress) progress.textContent = text;
    announce(text);
    markChecking();
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
    const page = PAGES.find((p) => p.route === document.documentElement.dataset.page);
    if (!(page && page.holdLiveUpdates && page.holdLiveUpdates())) await route();
  });
  source.addEventListener("network_changed", () => announce(t("ui.network_changed")));
  source.addEventListener("open", () => {
    if (document.body.classList.contains("disconnected")) announce("");
    setDisconnected(false);
  });
  source.addEventListener("error", async () => {
    setDisconnected(true);
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
  const query = new URLSearchParams(location.search);
  if (query.get("lang")) {
    // `certguard ui --lang xx` for this window only; the address bar is tidied (no query left behind).
    sessionStorage.setItem(ONE_OFF_LANG, query.get("lang"));
    history.replaceState(null, "", "/" + location.hash);
  }
  hooks.loggedOut = showLoggedOut;
  hooks.reload = async (chosen) => {
    // After saving settings: a changed language choice wins over a one-off --lang; otherwise the window keeps
    // the language it shows.
    if (chosen !== undefined) sessionStorage.removeItem(ONE_OFF_LANG);
    await loadLanguage(chosen !== undefined ? chosen : sessionStorage.getItem(ONE_OFF_LANG));
    await route();
  };
  buildNav();
  try {
    await loadLanguage(sessionStorage.getItem(ONE_OFF_LANG));
  } catch (e) {
    if (e instanceof Unauthorised) return showLoggedOut();
    throw e;
  }
  window.addEventListener("hashchange", onNavigate);
  await route();
  if (state.authorised) listen();
  return undefined;
}

// Modules run deferred, after the document is parsed: start at once.
start();
