// History, per network: interception episodes and the blocking and captive-portal periods (the daemon computes
// both), as a list and as a timeline picture of the same facts with a time axis.
import {el} from "../lib/dom.js";
import {lang, t} from "../lib/i18n.js";
import {icon} from "../lib/icons.js";
import {duration, formatMoment, when} from "../lib/format.js";
import {bars, span, ticks} from "../lib/timeline.js";
import {api, networkNames, withLang} from "../lib/api.js";
import {badge, title} from "../lib/widgets.js";

const DAY = 24 * 3600000;

function tickLabel(ms, lengthMs) {
  const opts = lengthMs <= 2 * DAY ? {hour: "2-digit", minute: "2-digit"} : {day: "numeric", month: "short"};
  return formatMoment(new Date(ms), lang(), opts);
}

// The axis under the bars: round moments from ticks(), and "now" at the right end. Labels too close to an end
// are left out so that none runs past the timeline on a narrow screen.
function axis(items, now) {
  const s = span(items, now);
  // The axis is at least an hour long (span()), so "now" is not always its right end: it sits where now falls.
  const nowLeft = (now - s.start) / s.length * 100;
  const atEnd = nowLeft > 75;  // past that a label starting at now could run off the right end
  const clear = (left) => left > 6 && left < 80 && Math.abs(left - nowLeft) > 15;
  return el("div", {class: "axis", "aria-hidden": "true"},
    ticks(s.start, s.length).filter((tk) => clear(tk.left)).map((tk) =>
      el("span", {class: "tick", "data-left": tk.left.toFixed(2), text: tickLabel(tk.at, s.length)})),
    el("span", atEnd ? {class: "tick tick--now tick--end", text: t("ui.timeline.now")}
      : {class: "tick tick--now", "data-left": Math.max(nowLeft, 0).toFixed(2), text: t("ui.timeline.now")}));
}

function range(e) {
  return e.ended_at ? t("ui.episode_range", {from: when(e.started_at), to: when(e.ended_at), duration: duration(e.started_at, e.ended_at)})
    : el("strong", {text: t("ui.episode_ongoing", {from: when(e.started_at), duration: duration(e.started_at, null)})});
}

function item(e) {
  const who = e.period ? null : [" ", el("strong", {text: e.culprit || t("kind.unknown")}), e.kind ? ` (${t(`kind.${e.kind}`)})` : ""];
  return el("li", {class: e.period ? "period" : "episode", "data-status": e.status}, badge(e.status), who,
    el("br"), t("ui.episode_hosts", {hosts: e.hosts.join(", ")}), el("br"), range(e));
}

async function render() {
  const doc = await api(withLang("/api/episodes"));  // culprits named in the window's language
  const networkName = await networkNames();
  const out = [title("ui.nav.history"), el("p", {class: "lead", text: t("ui.history_intro")})];
  const all = doc.episodes.concat((doc.periods || []).map((p) => ({...p, period: true})))
    .sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
  if (!all.length) return out.concat(el("p", {class: "good"}, icon("ok"), " ", t("ui.no_episodes")));
  const byNetwork = new Map();
  for (const e of all) {
    if (!byNetwork.has(e.network)) byNetwork.set(e.network, []);
    byNetwork.get(e.network).push(e);
  }
  const now = Date.now();
  for (const [network, items] of byNetwork) {
    const geometry = bars(items, now);
    out.push(el("section", {class: "network"},
      el("h2", {text: t("ui.network_named", {network: networkName(network)})}),
      // The bar is a picture of the list below it (which carries the same facts as text).
      el("div", {class: "timeline", "aria-hidden": "true"}, items.map((e, i) =>
        el("span", {class: `bar bar--${e.period ? e.status : e.kind || "unknown"}`, "data-left": geometry[i].left.toFixed(2),
                    "data-width": geometry[i].width.toFixed(2), title: e.culprit || e.hosts.join(", ")}))),
      axis(items, now),
      el("ul", {class: "episodes"}, items.map(item))));
  }
  return out;
}

export default {route: "history", nav: "ui.nav.history", render};
