// The background of the certguard companion: Chromium runs it as a service worker (importScripts for the shared
// logic), Firefox as an event page listing logic.js first (manifest "scripts").
"use strict";
if (typeof CertguardLogic === "undefined" && typeof importScripts === "function") importScripts("logic.js");

const api = typeof browser !== "undefined" ? browser : chrome;
const companion = CertguardLogic.createCompanion(api);
// Listeners are registered synchronously at start-up, so the first navigation after a wake-up is not missed.
companion.register();
globalThis.certguardCompanion = companion;  // for the browser tests (and a look from the devtools console)
globalThis.certguardReady = true;  // tests poll this before navigating (TESTING.md)
