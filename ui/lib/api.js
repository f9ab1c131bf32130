// The local API (same origin, session cookie). Every request carries the header that proves it comes from
// certguard's own page (certguard/app/api/auth.py).
import {lang} from "./i18n.js";

export class Unauthorised extends Error {}

export async function api(path, options) {
  const opts = Object.assign({credentials: "same-origin", cache: "no-store"}, options || {});
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

export const withLang = (path) => path + (path.includes("?") ? "&" : "?") + "lang=" + encodeURIComponent(lang());

// Network keys ("eth0 via 192.0.2.1") named for people ("wired network (gateway 192.0.2.1)") by the daemon, in the
// page's language; a key it cannot name stays as it is.
export async function networkNames() {
  const doc = await api(withLang("/api/networks"));
  const names = new Map(doc.networks.map((n) => [n.key, n.label]));
  return (key) => names.get(key) || key;
}
