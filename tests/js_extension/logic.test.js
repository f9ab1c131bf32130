// The extension's logic against a mocked browser/chrome object: node --test tests/js_extension/
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const L = require("../../extension/logic.js");

function mockApi({ firefox = true, native, allowPrivate = false, tabs = {} } = {}) {
  const calls = { native: [], badge: {}, color: {}, popup: {}, title: {}, listeners: {} };
  const session = {};
  const event = (name) => ({ addListener: (fn, filter, extra) => { calls.listeners[name] = { fn, filter, extra }; } });
  const api = {
    runtime: {
      sendNativeMessage: async (host, msg) => {
        calls.native.push({ host, msg });
        return native ? native(msg) : { type: "pong" };
      },
    },
    action: {
      setBadgeText: async ({ tabId, text }) => { calls.badge[tabId] = text; },
      setBadgeBackgroundColor: async ({ tabId, color }) => { calls.color[tabId] = color; },
      setPopup: async ({ tabId, popup }) => { calls.popup[tabId] = popup; },
      setTitle: async ({ tabId, title }) => { calls.title[tabId] = title; },
    },
    storage: {
      session: {
        set: async (o) => Object.assign(session, o),
        get: async (k) => ({ [k]: session[k] }),
        remove: async (k) => { delete session[k]; },
      },
      local: { get: async () => ({ allowPrivate }) },
    },
    tabs: { get: async (id) => tabs[id] || { id, incognito: false }, onRemoved: event("tabs.onRemoved") },
    i18n: { getUILanguage: () => "fr" },
    webRequest: { onHeadersReceived: event("onHeadersReceived"), onCompleted: event("onCompleted") },
  };
  if (firefox) {
    api.webRequest.getSecurityInfo = async (requestId, opts) => {
      calls.securityInfo = { requestId, opts };
      return { state: "secure", certificates: [{ rawDER: [0x30, 0x82, 0x01] }, { rawDER: [0x30, 0x03, 0xff] }] };
    };
  }
  return { api, calls, session };
}

const verdict = (status, extra = {}) => ({
  type: "verdict",
  result: { host: "bank.test", port: 443, status, source: "browser:firefox", findings: [], advice: null,
    interceptor: null, ...extra },
  difference: null,
  texts: { "status.intercepted": "Intercepté", "status.ok": "Sûr" },
});

test("only HTTPS pages are checkable; browser-internal pages and plain HTTP are ignored", () => {
  assert.deepEqual(L.checkable("https://bank.test/login"), { host: "bank.test", port: 443 });
  assert.deepEqual(L.checkable("https://127.0.0.1:8443/"), { host: "127.0.0.1", port: 8443 });
  assert.deepEqual(L.checkable("https://[::1]:9/"), { host: "::1", port: 9 });
  for (const url of ["http://bank.test/", "about:blank", "chrome://settings", "moz-extension://x/popup.html",
    "file:///etc/passwd", "data:text/html,x", "not a url"]) {
    assert.equal(L.checkable(url), null, url);
  }
});

test("Firefox: the chain the browser accepted goes to certguard, the response is not held up", async () => {
  let release;
  const answered = new Promise((r) => { release = r; });
  const { api, calls, session } = mockApi({ native: () => answered });
  let judged;
  const done = new Promise((r) => { judged = r; });
  const c = L.createCompanion(api, { onJudged: judged });
  c.register();
  assert.equal(c.browserName, "firefox");
  assert.deepEqual(calls.listeners.onHeadersReceived.extra, ["blocking"]);
  assert.equal(calls.listeners.onCompleted, undefined);
  const ret = await calls.listeners.onHeadersReceived.fn({ requestId: "r1", tabId: 7, url: "https://bank.test/",
    type: "main_frame", incognito: false });
  assert.deepEqual(ret, {}, "the blocking listener returns before certguard answers");
  assert.deepEqual(calls.securityInfo, { requestId: "r1", opts: { certificateChain: true, rawDER: true } });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(calls.badge[7], "…");
  const msg = calls.native[0].msg;
  assert.equal(calls.native[0].host, "org.certguard.companion");
  assert.deepEqual(msg, { type: "judge", host: "bank.test", port: 443, browser: "firefox", lang: "fr",
    chain: [Buffer.from([0x30, 0x82, 0x01]).toString("base64"), Buffer.from([0x30, 0x03, 0xff]).toString("base64")] });
  release(verdict("intercepted"));
  await done;
  assert.equal(calls.badge[7], "✖");
  assert.equal(calls.color[7], "#cf222e");
  assert.equal(calls.popup[7], "popup.html?tabId=7");
  assert.equal(calls.title[7], "certguard: Intercepté");
  assert.equal(session["tab:7"].answer.result.status, "intercepted");
});

test("Firefox without a chain (no certificates given) falls back to a probe", async () => {
  const { api, calls } = mockApi({ native: () => verdict("ok") });
  api.webRequest.getSecurityInfo = async () => ({ state: "secure", certificates: [] });
  let judged;
  const done = new Promise((r) => { judged = r; });
  const c = L.createCompanion(api, { onJudged: judged });
  await c.onHeadersReceived({ requestId: "r", tabId: 3, url: "https://bank.test:8443/", incognito: false });
  await done;
  assert.equal(calls.native[0].msg.type, "probe");
  assert.equal(calls.native[0].msg.port, 8443);
  assert.equal(calls.badge[3], "✓");
});

test("Chromium: no certificate API, so certguard is asked to probe the host", async () => {
  const { api, calls } = mockApi({ firefox: false, native: () => verdict("ok") });
  const c = L.createCompanion(api);
  c.register();
  assert.equal(c.browserName, "chromium");
  assert.ok(calls.listeners.onCompleted && !calls.listeners.onHeadersReceived);
  const state = await calls.listeners.onCompleted.fn({ tabId: 4, url: "https://bank.test/", type: "main_frame" });
  assert.deepEqual(calls.native[0].msg, { type: "probe", host: "bank.test", port: 443, browser: "chromium", lang: "fr" });
  assert.equal(state.answer.result.status, "ok");
  assert.equal(calls.badge[4], "✓");
  assert.equal(calls.color[4], "#1a7f37");
});

test("private windows are ignored unless allowed, and so are plain-HTTP pages and background requests", async () => {
  const { api, calls } = mockApi({ firefox: false, native: () => verdict("ok"), tabs: { 9: { id: 9, incognito: true } } });
  const c = L.createCompanion(api);
  assert.equal(await c.onCompleted({ tabId: 9, url: "https://bank.test/" }), null);
  assert.equal(await c.onCompleted({ tabId: 5, url: "http://bank.test/" }), null);
  assert.equal(await c.onCompleted({ tabId: -1, url: "https://bank.test/" }), null);
  assert.equal(calls.native.length, 0);
  // control: the same private tab once the user allowed it
  const allowed = mockApi({ firefox: false, native: () => verdict("ok"), allowPrivate: true,
    tabs: { 9: { id: 9, incognito: true } } });
  const c2 = L.createCompanion(allowed.api);
  assert.notEqual(await c2.onCompleted({ tabId: 9, url: "https://bank.test/" }), null);
  assert.equal(allowed.calls.native.length, 1);
  // Firefox says so in the request details
  const ff = mockApi({ native: () => verdict("ok") });
  const c3 = L.createCompanion(ff.api);
  await c3.onHeadersReceived({ requestId: "r", tabId: 2, url: "https://bank.test/", incognito: true });
  assert.equal(ff.calls.native.length, 0);
});

test("a missing native host gives an unknown badge and a stored error, never a safe one", async () => {
  const { api, calls, session } = mockApi({ firefox: false });
  api.runtime.sendNativeMessage = async () => { throw new Error("Specified native messaging host not found."); };
  const c = L.createCompanion(api);
  await c.onCompleted({ tabId: 1, url: "https://bank.test/" });
  assert.equal(calls.badge[1], "?");
  assert.equal(session["tab:1"].answer.error, "no_host");
  const model = L.popupModel(session["tab:1"]);
  assert.equal(model.kind, "error");
  assert.match(model.message, /not found/);
});

test("every status maps to a badge; only ok is safe", () => {
  assert.equal(L.badgeKind("ok"), "safe");
  assert.equal(L.badgeKind("intercepted"), "intercepted");
  assert.equal(L.badgeKind("suspicious"), "suspicious");
  for (const s of ["captive_portal", "misconfigured", "blocked", "unreachable", "error", undefined]) {
    assert.equal(L.badgeKind(s), "unknown", String(s));
  }
});

test("the popup model names the interceptor, the browser-only difference and where the chain came from", () => {
  const answer = verdict("intercepted", {
    interceptor: { name: "Test Antivirus", kind: "antivirus" }, advice: "Turn off HTTPS scanning.",
    findings: [{ id: "KNOWN_INTERCEPTOR", severity: "critical", message: "known" }, { id: "X", severity: "info", message: "i" }],
  });
  answer.difference = { id: "BROWSER_PROBE_DIFFER", message: "only the browser" };
  const m = L.popupModel({ host: "bank.test", port: 443, answer });
  assert.equal(m.kind, "intercepted");
  assert.equal(m.word, "Intercepté");
  assert.deepEqual(m.interceptor, { name: "Test Antivirus", kind: "antivirus" });
  assert.equal(m.difference, "only the browser");
  assert.equal(m.source, "browser");
  assert.deepEqual(m.findings, ["known"]);
  const probed = L.popupModel({ host: "h", port: 1, answer: verdict("ok", { source: "probe" }) });
  assert.equal(probed.source, "probe");
  assert.equal(probed.difference, null);
  assert.equal(L.popupModel({ host: "h", pending: true }).kind, "checking");
  assert.equal(L.popupModel(undefined).kind, "none");
  assert.equal(L.format("Qui : {name} ({kind})", { name: "A", kind: "b" }), "Qui : A (b)");
});

test("one manifest for both browsers: service worker and scripts, a key, a gecko id, no remote code", () => {
  const m = JSON.parse(fs.readFileSync(path.join(__dirname, "../../extension/manifest.json"), "utf8"));
  assert.equal(m.manifest_version, 3);
  assert.equal(m.background.service_worker, "background.js");
  assert.deepEqual(m.background.scripts, ["logic.js", "background.js"]);
  assert.match(m.key, /^MIIB/);
  assert.equal(m.browser_specific_settings.gecko.id, "companion@certguard.org");
  assert.deepEqual(m.host_permissions, ["https://*/*"]);
  assert.ok(m.permissions.includes("nativeMessaging"));
  assert.match(m.content_security_policy.extension_pages, /script-src 'self'/);
  for (const f of ["background.js", "logic.js", "popup.js", "popup.html"]) {
    const src = fs.readFileSync(path.join(__dirname, "../../extension", f), "utf8");
    assert.doesNotMatch(src, /fetch\(|XMLHttpRequest|WebSocket|https?:\/\/(?!\*)/, `${f} must not talk to the network`);
  }
});
