// certguard browser companion: the background logic, written against an injected `api` (browser.* or chrome.*)
// so that node's test runner can drive it with a mock (tests/js_extension/).
//
// What it does: for each main-frame HTTPS response, Firefox hands us the certificate chain it accepted
// (webRequest.getSecurityInfo) and we send it to certguard's native host to judge; Chromium has no certificate
// API, so we send only host and port and certguard probes the site itself. Each tab gets a badge and a popup
// (popup.html?tabId=N) with the verdict in the user's language. Nothing leaves the machine: the only peer is the
// native host, a local process.
"use strict";

const HOST_NAME = "org.certguard.companion";
const STATE_PREFIX = "tab:";

// Badge per outcome: a symbol and a colour (never colour alone: the popup and the title carry the words).
const BADGES = {
  safe: { text: "✓", color: "#1a7f37" },
  intercepted: { text: "✖", color: "#cf222e" },
  suspicious: { text: "!", color: "#bf8700" },
  unknown: { text: "?", color: "#6e7781" },
  checking: { text: "…", color: "#6e7781" },
};

function badgeKind(status) {
  if (status === "ok") return "safe";
  if (status === "intercepted") return "intercepted";
  if (status === "suspicious") return "suspicious";
  return "unknown";  // captive portal, misconfigured, blocked, unreachable, error: not a "safe" claim
}

// Which pages we look at: HTTPS only (so no about:, chrome://, moz-extension:, file:, data:, http:).
function checkable(url) {
  let u;
  try {
    u = new URL(url);
  } catch (e) {
    return null;
  }
  if (u.protocol !== "https:" || !u.hostname) return null;
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return { host, port: u.port ? Number(u.port) : 443 };
}

function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function createCompanion(api, options = {}) {
  const browserName = options.browserName || (api.webRequest && api.webRequest.getSecurityInfo ? "firefox" : "chromium");
  const store = (api.storage && (api.storage.session || api.storage.local)) || null;
  const language = () => (api.i18n && api.i18n.getUILanguage ? api.i18n.getUILanguage() : "en");
  let allowPrivate = false;  // private windows are ignored unless the user allowed it (storage.local.allowPrivate)
  const ready = (async () => {
    if (api.storage && api.storage.local) {
      const got = await api.storage.local.get("allowPrivate");
      allowPrivate = got && got.allowPrivate === true;
    }
  })();

  async function save(tabId, state) {
    if (store) await store.set({ [STATE_PREFIX + tabId]: state });
  }

  async function showBadge(tabId, kind, title) {
    const b = BADGES[kind];
    await api.action.setBadgeText({ tabId, text: b.text });
    await api.action.setBadgeBackgroundColor({ tabId, color: b.color });
    if (title) await api.action.setTitle({ tabId, title });
    await api.action.setPopup({ tabId, popup: `popup.html?tabId=${tabId}` });
  }

  async function ask(message) {
    try {
      return await api.runtime.sendNativeMessage(HOST_NAME, { ...message, lang: language() });
    } catch (e) {
      return { type: "error", error: "no_host", message: String((e && e.message) || e) };
    }
  }

  // One page load: judged by certguard, remembered for the popup, shown on the badge.
  async function judge(tabId, target, chain) {
    await ready;
    await save(tabId, { host: target.host, port: target.port, pending: true });
    await showBadge(tabId, "checking");
    const request = chain
      ? { type: "judge", host: target.host, port: target.port, chain, browser: browserName }
      : { type: "probe", host: target.host, port: target.port, browser: browserName };
    const answer = await ask(request);
    const state = { host: target.host, port: target.port, pending: false, at: Date.now(), answer };
    await save(tabId, state);
    if (answer && answer.type === "verdict" && answer.result) {
      const kind = badgeKind(answer.result.status);
      const word = answer.texts && answer.texts[`status.${answer.result.status}`];
      await showBadge(tabId, kind, word ? `certguard: ${word}` : null);
    } else {
      await showBadge(tabId, "unknown", null);
    }
    return state;
  }

  async function isPrivate(details) {
    if (details.incognito !== undefined) return details.incognito;
    if (details.tabId < 0 || !api.tabs || !api.tabs.get) return false;
    try {
      const tab = await api.tabs.get(details.tabId);
      return Boolean(tab && tab.incognito);
    } catch (e) {
      return true;  // a tab we cannot look at is not one we report on
    }
  }

  // Firefox: must run inside a blocking onHeadersReceived listener, before the response is handed on.
  async function onHeadersReceived(details) {
    await ready;
    const target = checkable(details.url);
    if (!target || details.tabId < 0 || (!allowPrivate && (await isPrivate(details)))) return {};
    let chain = null;
    try {
      const info = await api.webRequest.getSecurityInfo(details.requestId, { certificateChain: true, rawDER: true });
      if (info && Array.isArray(info.certificates) && info.certificates.length) {
        chain = info.certificates.map((c) => toBase64(c.rawDER));
      }
    } catch (e) {
      chain = null;
    }
    // Judging waits for the native host; the page must not: start it and let the response go on.
    const pending = chain ? judge(details.tabId, target, chain) : judge(details.tabId, target, null);
    if (options.onJudged) pending.then(options.onJudged);
    return {};
  }

  // Chromium: no certificate API; certguard probes the host (rate-limited and cached by the native host).
  async function onCompleted(details) {
    await ready;
    const target = checkable(details.url);
    if (!target || details.tabId < 0 || (!allowPrivate && (await isPrivate(details)))) return null;
    const state = await judge(details.tabId, target, null);
    if (options.onJudged) options.onJudged(state);
    return state;
  }

  function register() {
    const filter = { urls: ["https://*/*"], types: ["main_frame"] };
    if (browserName === "firefox") {
      api.webRequest.onHeadersReceived.addListener(onHeadersReceived, filter, ["blocking"]);
    } else {
      api.webRequest.onCompleted.addListener(onCompleted, filter);
    }
    if (api.tabs && api.tabs.onRemoved) {
      api.tabs.onRemoved.addListener((tabId) => store && store.remove(STATE_PREFIX + tabId));
    }
  }

  return { register, onHeadersReceived, onCompleted, judge, ready, browserName };
}

// ---- the popup ---------------------------------------------------------------------------------------------------

// What the popup shows, decided from the stored answer alone (texts come from certguard's catalogs).
function popupModel(state) {
  if (!state) return { kind: "none" };
  const answer = state.answer;
  if (state.pending || !answer) return { kind: "checking", host: state.host };
  const texts = answer.texts || {};
  if (answer.type !== "verdict") {
    return { kind: "error", host: state.host, error: answer.error, message: answer.message || "", texts };
  }
  const r = answer.result;
  const model = {
    kind: badgeKind(r.status), host: r.host, port: r.port, status: r.status,
    word: texts[`status.${r.status}`] || r.status, advice: r.advice || null, texts,
    source: r.source === "probe" ? "probe" : "browser",
    interceptor: r.interceptor ? { name: r.interceptor.name, kind: r.interceptor.kind } : null,
    findings: (r.findings || []).filter((f) => f.severity !== "info").map((f) => f.message),
    difference: answer.difference ? answer.difference.message : null,
  };
  return model;
}

function format(template, params) {
  return String(template || "").replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

const CertguardLogic = { HOST_NAME, BADGES, badgeKind, checkable, toBase64, createCompanion, popupModel, format };
if (typeof module !== "undefined" && module.exports) module.exports = CertguardLogic;
else globalThis.CertguardLogic = CertguardLogic;
