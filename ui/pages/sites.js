// Sites: every watched site with its status and who issued what it served.
import {el} from "../lib/dom.js";
import {t} from "../lib/i18n.js";
import {when} from "../lib/format.js";
import {state} from "../lib/state.js";
import {badge, failureText, siteLink, title} from "../lib/widgets.js";

function render() {
  const doc = state.status;
  if (!doc.results.length) return [title("ui.nav.sites"), el("p", {text: t("ui.no_results")})];
  const rows = doc.results.map((r) => el("tr", {},
    el("th", {scope: "row"}, siteLink(r)),
    el("td", {}, badge(r.status), r.allowed ? el("span", {class: "muted", text: " " + t("ui.allowed")}) : null),
    el("td", {class: "issuer", text: r.interceptor ? r.interceptor.name : (r.chain.length ? r.chain[0].issuer : failureText(r))}),
    el("td", {text: when(r.observed_at)})));
  return [title("ui.nav.sites"),
    el("table", {class: "sites"},
      el("caption", {text: t("ui.sites_caption")}),
      el("thead", {}, el("tr", {}, ["cli.col_site", "cli.col_status", "cli.col_issuer", "ui.col_checked"].map(
        (k) => el("th", {scope: "col", text: t(k)})))),
      el("tbody", {}, rows))];
}

export default {route: "sites", nav: "ui.nav.sites", render};
