// Dates, durations and names as people read them. Pure functions: no DOM, the language passed in.
import {t, lang} from "./i18n.js";

// A date in the user's language (Intl picks day-month order, 24 h clock etc. per locale; en-GB rather than
// en-US for English, which most English readers outside the US expect).
export function localeFor(code) {
  return code === "en" ? "en-GB" : code;
}

// Whether this browser has calendar data for the locale: Chromium's reduced ICU "supports" kk but names months
// "M12" (the root locale), which reads as "2026 M12 2", and Qt WebEngine has none. Such a locale gets the numeric
// form used in Kazakhstan and Russia instead ("02.12.2026, 00:42").
const calendarData = new Map();
export function hasCalendarData(locale) {
  if (!calendarData.has(locale)) {
    let ok;
    try {
      const format = new Intl.DateTimeFormat(locale, {month: "long"});
      // Qt WebEngine lacks kk altogether and falls back to en-US ("Dec 2, 2026, 12:51 AM"): another language.
      const same = format.resolvedOptions().locale.split("-")[0] === locale.split("-")[0];
      ok = same && !/^M\d+$/.test(format.format(new Date(2026, 0, 15)));
    } catch (e) {
      ok = false;
    }
    calendarData.set(locale, ok);
  }
  return calendarData.get(locale);
}

const pad = (n) => String(n).padStart(2, "0");

// "02.12.2026, 00:42" (a date and time), "00:42" (hour and minute) or "02.12" (day and month), local time.
export function numericMoment(date, options) {
  const day = `${pad(date.getDate())}.${pad(date.getMonth() + 1)}`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (options.dateStyle) return `${day}.${date.getFullYear()}, ${time}`;
  return options.hour ? time : day;
}

// A moment in the user's language; ``opts`` as for toLocaleString (default: medium date, short time).
export function formatMoment(date, code, opts) {
  const locale = localeFor(code);
  const options = opts || {dateStyle: "medium", timeStyle: "short"};
  if (!hasCalendarData(locale)) return numericMoment(date, options);
  try {
    return date.toLocaleString(locale, options);
  } catch (e) {
    return date.toISOString();
  }
}

export function formatDate(iso, code) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return formatMoment(d, code);
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
