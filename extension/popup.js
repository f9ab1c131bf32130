// The popup for one tab (popup.html?tabId=N): renders what the background stored for it. Every sentence comes from
// certguard's catalogs, sent by the native host with each answer.
"use strict";
(async () => {
  const api = typeof browser !== "undefined" ? browser : chrome;
  const L = CertguardLogic;
  const tabId = Number(new URLSearchParams(location.search).get("tabId"));
  const store = api.storage.session || api.storage.local;
  const key = `tab:${tabId}`;
  const got = Number.isInteger(tabId) ? await store.get(key) : {};
  const model = L.popupModel(got[key]);
  const $ = (id) => document.getElementById(id);
  const symbols = { safe: "✓", intercepted: "✖", suspicious: "!", unknown: "?", checking: "…", error: "?", none: "–" };
  let texts = model.texts || {};
  if (!Object.keys(texts).length) {
    // Nothing judged yet (or not checkable): the texts still come from certguard, in the user's language.
    try {
      const pong = await api.runtime.sendNativeMessage(L.HOST_NAME, { type: "ping", lang: api.i18n.getUILanguage() });
      texts = (pong && pong.texts) || {};
    } catch (e) {
      texts = {};
    }
  }
  const show = (id, text) => { const el = $(id); el.textContent = text || ""; el.hidden = !text; };
  $("popup").dataset.kind = model.kind;
  $("symbol").textContent = symbols[model.kind] || "?";
  document.documentElement.lang = api.i18n.getUILanguage();
  if (model.kind === "none") {
    $("word").textContent = "certguard";
    show("message", texts["ui.popup.not_checked"]);
  } else if (model.kind === "checking") {
    $("word").textContent = "certguard";
    $("host").textContent = model.host;
    show("message", texts["ui.popup.checking"]);
  } else if (model.kind === "error") {
    $("word").textContent = texts["status.error"] || "certguard";
    $("host").textContent = model.host;
    show("message", texts["ui.popup.error"] ? L.format(texts["ui.popup.error"], { message: model.message }) : model.message);
  } else {
    $("word").textContent = model.word;
    $("host").textContent = model.port === 443 ? model.host : `${model.host}:${model.port}`;
    if (model.interceptor) {
      const kind = texts[`kind.${model.interceptor.kind}`] || model.interceptor.kind;
      show("interceptor", L.format(texts["ui.popup.interceptor"], { name: model.interceptor.name, kind }));
    }
    if (model.difference) {
      $("difference").hidden = false;
      $("difference-title").textContent = texts["ui.popup.difference"];
      $("difference-text").textContent = model.difference;
    }
    show("advice", model.advice);
    for (const f of model.findings) {
      const li = document.createElement("li");
      li.textContent = f;
      $("findings").appendChild(li);
    }
    show("source", texts[model.source === "probe" ? "ui.popup.source_probe" : "ui.popup.source_browser"]);
  }
  if (texts["ui.popup.open_ui"]) {
    const button = $("open-ui");
    button.textContent = texts["ui.popup.open_ui"];
    button.hidden = false;
    button.addEventListener("click", async () => {
      const answer = await api.runtime.sendNativeMessage(L.HOST_NAME, { type: "open_ui", lang: api.i18n.getUILanguage() });
      if (answer && answer.type === "ui" && answer.url) await api.tabs.create({ url: answer.url });
      else show("message", (answer && answer.message) || "");
    });
  }
  document.documentElement.dataset.ready = "1";
})();
