// certguard's own icons, drawn as inline SVG: no font has to carry a glyph (U+26D4 "no entry" rendered as an empty box
// in the installed fonts), and the shape, not only the colour, tells the statuses apart.

// 24×24 outlines, stroked with the text colour. Each is a list of SVG path data.
export const ICONS = {
  ok: ["M12 2.5a9.5 9.5 0 1 0 0 19 9.5 9.5 0 0 0 0-19z", "M7.5 12.5l3 3 6-6.5"],
  intercepted: ["M12 2.5a9.5 9.5 0 1 0 0 19 9.5 9.5 0 0 0 0-19z", "M8.5 8.5l7 7", "M15.5 8.5l-7 7"],
  warning: ["M12 3L2 20.5h20z", "M12 9.5v5", "M12 17.2v.3"],
  blocked: ["M12 2.5a9.5 9.5 0 1 0 0 19 9.5 9.5 0 0 0 0-19z", "M7 12h10"],
  offline: ["M12 2.5a9.5 9.5 0 1 0 0 19 9.5 9.5 0 0 0 0-19z"],
  error: ["M12 2.5a9.5 9.5 0 1 0 0 19 9.5 9.5 0 0 0 0-19z", "M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .9-1 1.6v.6", "M12 17.2v.3"],
  pending: ["M6 12h.2", "M12 12h.2", "M18 12h.2"],
  device: ["M3 5h18v11H3z", "M8 20h8", "M12 16v4"],
  info: ["M12 2.5a9.5 9.5 0 1 0 0 19 9.5 9.5 0 0 0 0-19z", "M12 11v6", "M12 7.3v.3"],
  shield: ["M12 2.5l8 3v6c0 5-3.5 8.5-8 10-4.5-1.5-8-5-8-10v-6z", "M8.5 12l2.5 2.5 4.5-5"],
};

const STATUS_ICON = {
  ok: "ok", intercepted: "intercepted", suspicious: "warning", captive_portal: "warning", misconfigured: "warning",
  blocked: "blocked", unreachable: "offline", error: "error", offline: "offline", unknown: "pending",
};

export function statusIcon(status) {
  return STATUS_ICON[status] || "info";
}

const SVG = "http://www.w3.org/2000/svg";

// Decorative: the word next to it carries the meaning, so screen readers skip it.
export function icon(name, cls) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", `icon icon--${name}${cls ? " " + cls : ""}`);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.dataset.icon = name;
  for (const d of ICONS[name] || ICONS.info) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}
