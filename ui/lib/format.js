// Dates, durations and names as people read them. Pure functions: no DOM, the language passed in.
import {t, lang} from "./i18n.js";

// A date in the user's language (Intl picks day-month order, 24 h clock etc. per locale; en-GB rather than
// en-US for English, which most English readers outside the US expect).
export function localeFor(code) {
  return code === "en" ? "en-GB" : code;
}

export function formatDate(iso, code) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  try {
    return d.toLocaleString(localeFor(code), {dateStyle: "medium", timeStyle: "short"});
  } catch (e) {
    return d.toISOString();
  }
}

export function when(iso) {
  if (!iso) return t("ui.never");
  return formatDate(iso, lang());
}

// Minutes between two moments (never negative), and the unit a person would use for that span.
export function minutesBetween(fromMs, toMs) {
  return Math.max(0, Math.round((toMs - fromMs) / 60000));
}

export function durationUnit(minutes) {
  if (minutes < 1) return {unit: "now", n: 0};
  if (minutes < 120) return {unit: "minutes", n: minutes};
  if (minutes < 48 * 60) return {unit: "hours", n: Math.round(minutes / 60)};
  return {unit: "days", n: Math.round(minutes / 1440)};
}

export function duration(fromIso, toIso) {
  const span = durationUnit(minutesBetween(new Date(fromIso).getTime(), toIso ? new Date(toIso).getTime() : Date.now()));
  const key = {now: "ui.duration.now", minutes: "ui.duration.minutes", hours: "ui.duration.hours", days: "ui.duration.days"};
  return t(key[span.unit], {n: span.n});
}

// "host" for the default port, "host:port" otherwise; the route to the site's page.
export function siteLabel(host, port) {
  return Number(port) === 443 ? host : `${host}:${port}`;
}

export function siteHref(host, port) {
  return `#/site/${encodeURIComponent(host)}/${port}`;
}

// "#/site/a.b/443" -> ["site", "a.b", "443"]; an empty hash is the first page.
export function parseHash(hash, fallback) {
  const parts = (hash.replace(/^#\/?/, "") || fallback).split("/").map((p) => {
    try { return decodeURIComponent(p); } catch (e) { return p; }
  });
  return {page: parts[0], params: parts.slice(1)};
}
