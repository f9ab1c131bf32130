"""Renderers: the same Verdicts as JSON (the stable contract of DESIGN.md §4) or as a human-readable table."""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from certguard import __version__
from certguard.device import places
from certguard.i18n import Translator
from certguard.judge.analyze import TrustContext
from certguard.judge.audit import AuditedRoot, AuditReport
from certguard.judge.models import InterceptorKind, Severity, Status, Verdict, iso, overall

_STYLE = {Status.OK: "green", Status.INTERCEPTED: "bold red", Status.SUSPICIOUS: "bold yellow",
          Status.CAPTIVE_PORTAL: "yellow", Status.MISCONFIGURED: "yellow", Status.BLOCKED: "magenta",
          Status.UNREACHABLE: "dim", Status.ERROR: "bold magenta"}
# Colour is never the only signal: every status also has a word and a symbol.
_SYMBOL = {Status.OK: "✔", Status.INTERCEPTED: "✖", Status.SUSPICIOUS: "!", Status.CAPTIVE_PORTAL: "?",
           Status.MISCONFIGURED: "~", Status.BLOCKED: "⊘", Status.UNREACHABLE: "·", Status.ERROR: "‼"}


def provenance(ctx: TrustContext) -> dict[str, Any]:
    return {
        "pins_sha256": ctx.pins.sha256,
        "intel_sha256": ctx.intel.sha256,
        "ct_log_list": ctx.ct_logs.describe() if ctx.ct_logs else None,
        "anchors": ctx.mozilla.source,
        "device_store": ctx.device.source if ctx.device else None,
    }


def summary(verdicts: Sequence[Verdict]) -> dict[str, int]:
    counts = Counter(v.status.value for v in verdicts)
    return {s.value: counts.get(s.value, 0) for s in Status} | {"total": len(verdicts)}


def to_json(verdicts: Sequence[Verdict], ctx: TrustContext, tr: Translator, generated_at: datetime) -> str:
    results = []
    for v in verdicts:
        d = v.to_dict(tr.messages(v))
        d["advice"] = tr.advice(v)
        results.append(d)
    doc = {"certguard_version": __version__, "generated_at": iso(generated_at), "language": tr.lang,
           "data": provenance(ctx), "results": results, "summary": summary(verdicts)}
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _issuer_cell(v: Verdict, tr: Translator) -> str:
    if v.interceptor is not None:
        return tr.interceptor_name(v.interceptor)
    if v.chain:
        return v.chain[-1].issuer if len(v.chain) > 1 else v.chain[0].issuer
    return ""


def _ct_line(v: Verdict, tr: Translator) -> str | None:
    if not v.chain:
        return None
    if v.ct is None:
        return tr("cli.ct_not_checked")
    valid = sum(1 for s in v.ct["scts"] if s["valid"])
    if not v.ct["enforced"]:  # a log list that does not cover this moment: shown, never claimed (as in the window)
        return tr("cli.ct_not_counted", valid=valid, version=v.ct["log_list_version"])
    if v.ct["policy_met"]:
        return tr("cli.ct_ok", valid=valid)
    return tr("cli.ct_failed")


def _label(v: Verdict) -> str:
    return v.host if v.port == 443 else f"{v.host}:{v.port}"


def _summary_line(verdicts: Sequence[Verdict], tr: Translator) -> str:
    """Every status that occurred, counted (none hidden under "other")."""
    s = summary(verdicts)
    return ", ".join(f"{s[st.value]} {tr('status.' + st.value)}" for st in Status if s[st.value])


def render_text(verdicts: Sequence[Verdict], tr: Translator, console: Console) -> None:
    word = overall(verdicts)
    # One overall line first: the verdict in words, before any detail.
    console.print(Text(tr(f"ui.overall.{word}"), style="bold"))
    if word == "offline":
        # Nothing answered: say so once, not one "Unreachable" row per site.
        console.print(tr("ui.overall_help.offline"), markup=False)
        console.print(_summary_line(verdicts, tr), markup=False)
        return
    table = Table(show_lines=False)
    table.add_column(tr("cli.col_site"), overflow="fold")
    table.add_column(tr("cli.col_status"))
    table.add_column(tr("cli.col_issuer"), overflow="fold")
    for v in verdicts:
        status = Text(f"{_SYMBOL[v.status]} {tr('status.' + v.status.value)}", style=_STYLE[v.status])
        # Names are the server's: as Text, never parsed as rich markup.
        table.add_row(_label(v), status, Text(_issuer_cell(v, tr)))
    console.print(table)
    # Findings grouped by culprit: one block per interceptor (else per site), listing its sites once.
    groups: dict[str, list[Verdict]] = {}
    for v in verdicts:
        notable = [f for f in v.findings if f.severity is not Severity.INFO] or (
            list(v.findings) if v.status is not Status.OK else [])
        if notable:
            key = f"i:{v.interceptor.entry_id}" if v.interceptor is not None else f"s:{_label(v)}"
            groups.setdefault(key, []).append(v)
    for members in groups.values():
        v = members[0]
        head = tr("cli.group_head", sites=", ".join(_label(m) for m in members), status=tr("status." + v.status.value))
        console.print(Text(f"\n{_SYMBOL[v.status]} {head}", style=_STYLE[v.status]))
        lines: list[str] = []
        if v.interceptor is not None:
            lines.append(f"{tr.interceptor_name(v.interceptor)} — {tr('kind.' + v.interceptor.kind.value)}"
                         f" ({tr('match.' + v.interceptor.match.value)})")
        seen: set[str] = set()
        for m in members:
            for f in m.findings:
                if (f.severity is not Severity.INFO or m.status is not Status.OK) and f.id not in seen:
                    seen.add(f.id)
                    lines.append(tr("cli.finding_line", severity=tr("ui.severity." + f.severity.value), id=f.id,
                                    message=tr.finding(f)))
        ct = _ct_line(v, tr)
        if ct:
            lines.append(ct)
        advice = tr.advice(v, many=len(members) > 1)  # one block for several sites: "these sites"
        if advice:
            lines.append(f"{tr('cli.what_to_do')} {advice}")
        for text in lines:
            console.print(Padding(Text(text), (0, 0, 0, 2)))
    console.print("\n" + _summary_line(verdicts, tr), markup=False)


# Where each antivirus product hides its HTTPS scanning switch (literal keys: tests/test_i18n.py sees them used).
_AV_SETTING = {"av-kaspersky": "audit.av_setting.av-kaspersky", "av-avast-avg": "audit.av_setting.av-avast-avg",
               "av-eset": "audit.av_setting.av-eset", "av-bitdefender": "audit.av_setting.av-bitdefender",
               "adblock-adguard": "audit.av_setting.adblock-adguard"}
# The NSS readers' location labels (certguard/device/nss.py): "DB: NICK" and "Chrome/Chromium NSS database (DB): NICK".
_NSS_LOCATION = {"nss": re.compile(r"^(?P<db>.+?): (?P<nick>.+)$"),
                 "nss-chromium": re.compile(r"^Chrome/Chromium NSS database \((?P<db>.+)\): (?P<nick>.+)$")}


def _remove_command(store: str, location: str) -> str | None:
    """certutil with the real database and nickname (quoted for the shell: a nickname is whatever the installer
    chose), never a placeholder to fill in."""
    pattern = _NSS_LOCATION.get(store)
    m = pattern.match(location) if pattern else None
    if m is None:
        return None
    return f"certutil -D -d {shlex.quote('sql:' + m.group('db'))} -n {shlex.quote(m.group('nick'))}"


def removal_steps(r: AuditedRoot, tr: Translator) -> dict[str, str]:
    """Per store, how to remove this root: for antivirus roots, first turn off the product's HTTPS scanning
    (deleting the root while it scans breaks every site, and the product puts it back)."""
    first = ""
    if r.interceptor is not None and r.interceptor.kind is InterceptorKind.ANTIVIRUS:
        setting = tr(_AV_SETTING.get(r.interceptor.entry_id, "audit.av_setting.generic"))
        first = tr("audit.av_first", product=tr.interceptor_name(r.interceptor), setting=setting) + " "
    out: dict[str, str] = {}
    for loc in r.locations:
        if loc.store not in out:
            out[loc.store] = first + tr(f"audit.remove.{loc.store}")
        command = _remove_command(loc.store, loc.location)
        if command:
            out[loc.store] += " " + tr("audit.remove_command", command=command)
    return out


def store_label(store: str, location: str, tr: Translator) -> str:
    """A reader's location label (raw, English: the JSON keeps it) as a person reads it, in ``tr``'s language."""
    place = places.describe(store, location)
    if place is None or place.key is None:
        return location
    where = tr(place.key, **dict(place.params))
    return where if place.nick is None else tr("store.nickname", where=where, nick=place.nick)


def audit_to_json(report: AuditReport, tr: Translator, generated_at: datetime, anchors: str) -> str:
    return json.dumps(audit_document(report, tr, generated_at, anchors), indent=2, ensure_ascii=False)


def audit_document(report: AuditReport, tr: Translator, generated_at: datetime, anchors: str) -> dict[str, Any]:
    """The audit as the JSON contract has it (``audit --json`` and the API's ``/api/audit``)."""
    # ``location`` and ``interceptor.name`` stay the raw English data; ``label`` and ``display_name`` are what a
    # person reads, in ``language`` (the Device page shows them).
    roots = []
    for r in report.roots:
        d = r.to_dict()
        for loc in d["locations"]:
            loc["label"] = store_label(loc["store"], loc["location"], tr)
        if r.interceptor is not None:
            d["interceptor"]["display_name"] = tr.interceptor_name(r.interceptor)
        if r.verdict != "expected":
            d["how_to_remove"] = removal_steps(r, tr)
        roots.append(d)

    def where(store: str, location: str) -> dict[str, str]:
        return {"store": store, "location": location, "label": store_label(store, location, tr)}

    return {"certguard_version": __version__, "generated_at": iso(generated_at), "language": tr.lang,
            "anchors": anchors, "scanned": [where(s, loc) for s, loc in report.scanned],
            "roots": roots,
            # "message" stays English (a contract); "text" is what a person reads, in their language
            "problems": [where(p.store, p.location) | {"message": p.message, "text": p.text(tr)}
                         for p in report.problems],
            "notes": [where(n.store, n.location) | {"message": n.message, "text": n.text(tr)} for n in report.notes],
            "summary": report.counts()}


_AUDIT_STYLE = {"interceptor": "bold red", "extra": "yellow", "expected": "green"}
_AUDIT_SYMBOL = {"interceptor": "✖", "extra": "!", "expected": "✔"}


def render_audit_text(report: AuditReport, tr: Translator, console: Console, show_all: bool = False) -> None:
    if not report.scanned:
        console.print(tr("audit.none_read"), markup=False)
    # Roots the OS vendor shipped from an older Mozilla list are one summary line, not a wall of warnings.
    shown = [r for r in report.roots if show_all or (r.verdict != "expected" and not r.distribution)]
    if shown:
        table = Table(show_lines=False)
        table.add_column(tr("audit.col_certificate"), overflow="fold")
        table.add_column(tr("audit.col_verdict"))
        table.add_column(tr("audit.col_where"), overflow="fold")
        for r in shown:
            verdict = Text(f"{_AUDIT_SYMBOL[r.verdict]} {tr('audit.verdict.' + r.verdict)}",
                           style=_AUDIT_STYLE[r.verdict])
            where = "\n".join(f"{store_label(loc.store, loc.location, tr)} ({tr('audit.trust.' + loc.trust)})"
                              for loc in r.locations)
            table.add_row(f"{r.subject}\nsha256 {r.sha256}", verdict, where)
        console.print(table)
    c = report.counts()
    if not show_all and c["expected"]:
        console.print(tr("audit.expected_hidden", count=c["expected"]), markup=False)
    if not show_all and c["distribution_outdated"]:
        console.print(tr("audit.distribution_outdated", count=c["distribution_outdated"]), markup=False)
    for r in report.roots:
        if r.verdict == "expected" or (r.distribution and r.verdict == "extra"):
            continue
        console.print(Text(f"\n{_AUDIT_SYMBOL[r.verdict]} {r.subject}", style=_AUDIT_STYLE[r.verdict]))
        if r.interceptor is not None:
            console.print(f"  {tr.interceptor_name(r.interceptor)} — {tr('kind.' + r.interceptor.kind.value)}"
                          f" ({tr('match.' + r.interceptor.match.value)})", markup=False)
        if r.anchored:
            console.print("  " + tr("audit.anchored", hosts=", ".join(r.anchored)), markup=False)
        for text in removal_steps(r, tr).values():
            console.print("  " + tr("audit.how_to_remove_line", steps=text), markup=False)
    for p in report.problems:
        console.print(tr("audit.problem", location=store_label(p.store, p.location, tr), message=p.text(tr)),
                      markup=False, style="yellow")
    for n in report.notes:
        console.print(tr("audit.note", location=store_label(n.store, n.location, tr), message=n.text(tr)),
                      markup=False, style="yellow")
    console.print("\n" + tr("audit.summary", interceptor=c["interceptor"], trusted=c["trusted_interceptors"],
                            extra=c["extra"], expected=c["expected"], problems=c["problems"]), markup=False)
