// The message catalog of the current language and `t()`, the only way text reaches the page.
// Pure apart from the one catalog it holds: the Node tests load a catalog and call t() directly.

export const LANG_NAMES = {en: "English", fr: "Français", ru: "Русский", kk: "Қазақша"};

const current = {lang: "en", messages: {}, languages: []};

// "{name}" placeholders filled from params; an unknown placeholder stays visible (tests catch it) rather than
// silently becoming "undefined".
export function interpolate(text, params) {
  return text.replace(/\{(\w+)\}/g, (m, name) => (params && name in params ? String(params[name]) : m));
}

export function setCatalog(doc) {
  current.lang = doc.lang;
  current.messages = doc.messages || {};
  current.languages = doc.languages || [];
}

export function lang() { return current.lang; }
export function languages() { return current.languages; }
export function has(key) { return Object.prototype.hasOwnProperty.call(current.messages, key); }

// A missing key shows the key itself: visible in a screenshot, and tests/test_ui.py fails on it.
export function t(key, params) {
  const text = current.messages[key];
  if (text === undefined) return key;
  return interpolate(text, params);
}

// The first key of `keys` that the catalog has (a specific wording with a general fallback), rendered.
export function tFirst(keys, params) {
  for (const key of keys) if (has(key)) return t(key, params);
  return t(keys[keys.length - 1], params);
}
