// History: interception episodes per network, as a list and as a timeline picture of the same facts.
import {el} from "../lib/dom.js";
import {t} from "../lib/i18n.js";
import {icon} from "../lib/icons.js";
import {duration, when} from "../lib/format.js";
import {bars} from "../lib/timeline.js";
import {api} from "../lib/api.js";
import {badge, title} from "../lib/widgets.js";

async function render() {
  const doc = await api("/api/episodes");
  const out = [title("ui.nav.history"), el("p", {class: "lead", text: t("ui.history_intro")})];
  if (!doc.episodes.length) return out.concat(el("p", {class: "good"}, icon("ok"), " ", t("ui.no_episodes")));
  const byNetwork = new Map();
  for (const e of doc.episodes) {
    if (!byNetwork.has(e.network)) byNetwork.set(e.network, []);
    byNetwork.get(e.network).push(e);
  }
  const now = Date.now();
  for (const [network, episodes] of byNetwork) {
    const geometry = bars(episodes, now);
    out.push(el("section", {class: "network"},
      el("h2", {text: t("ui.network") + ": " + network}),
      // The bar is a picture of the list below it (which carries the same facts as text).
      el("div", {class: "timeline", "aria-hidden": "true"}, episodes.map((e, i) =>
        el("span", {class: `bar bar--${e.kind || "unknown"}`, "data-left": geometry[i].left.toFixed(2),
                    "data-width": geometry[i].width.toFixed(2), title: e.culprit || ""}))),
      el("ul", {class: "episodes"}, episodes.map((e) => el("li", {},
        badge(e.status), " ", el("strong", {text: e.culprit || t("kind.unknown")}),
        e.kind ? ` (${t(`kind.${e.kind}`)})` : "",
        el("br"), t("ui.episode_hosts", {hosts: e.hosts.join(", ")}), el("br"),
        e.ended_at ? t("ui.episode_range", {from: when(e.started_at), to: when(e.ended_at), duration: duration(e.started_at, e.ended_at)})
          : el("strong", {text: t("ui.episode_ongoing", {from: when(e.started_at), duration: duration(e.started_at, null)})}))))));
  }
  return out;
}

export default {route: "history", nav: "ui.nav.history", render};
