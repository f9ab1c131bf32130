// Small pieces several pages show: a status badge (icon + word, never colour alone), a site link, the live line.
import {el} from "./dom.js";
import {t} from "./i18n.js";
import {icon, statusIcon} from "./icons.js";
import {siteHref, siteLabel} from "./format.js";

export function badge(status) {
  return el("span", {class: `badge badge--${status}`, "data-status": status}, icon(statusIcon(status)), " ",
    t(`status.${status}`));
}

// A host name may break only after a dot ("www.google.|com"), never inside a label ("www.googl e.com").
export function hostText(label) {
  const parts = label.split(".");
  return parts.flatMap((p, i) => (i < parts.length - 1 ? [p + ".", el("wbr")] : [p]));
}

export function siteLink(r) {
  return el("a", {href: siteHref(r.host, r.port), class: "host"}, hostText(siteLabel(r.host, r.port)));
}

export function failureText(r) {
  return t("ui.failure", {failure: r.failure ? t(`failure.${r.failure}`) : "?"});
}

export function announce(text) {
  document.getElementById("live").textContent = text;
}

export function title(key) {
  return el("h1", {tabindex: "-1", text: t(key)});
}
