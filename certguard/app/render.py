"""Renderers: the same Verdicts as JSON (the stable contract of DESIGN.md §4) or as a human-readable table."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from certguard import __version__
from certguard.i18n import Translator
from certguard.judge.analyze import TrustContext
from certguard.judge.audit import AuditReport
from certguard.judge.models import Severity, Status, Verdict, iso

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


def _issuer_cell(v: Verdict) -> str:
    if v.interceptor is not None:
        return v.interceptor.name
    if v.chain:
        return v.chain[-1].issuer if len(v.chain) > 1 else v.chain[0].issuer
    return ""


def _ct_line(v: Verdict, tr: Translator) -> str | None:
    if not v.chain:
        return None
    if v.ct is None:
        return tr("cli.ct_not_checked")
    if v.ct["policy_met"]:
        return tr("cli.ct_ok", valid=sum(1 for s in v.ct["scts"] if s["valid"]))
    return tr("cli.ct_failed")


def render_text(verdicts: Sequence[Verdict], tr: Translator, console: Console) -> None:
    table = Table(show_lines=False)
    table.add_column(tr("cli.col_site"))
    table.add_column(tr("cli.col_status"))
    table.add_column(tr("cli.col_issuer"), overflow="fold")
    for v in verdicts:
        label = v.host if v.port == 443 else f"{v.host}:{v.port}"
        status = Text(f"{_SYMBOL[v.status]} {tr('status.' + v.status.value)}", style=_STYLE[v.status])
        # Names are the server's: as Text, never parsed as rich markup.
        table.add_row(label, status, Text(_issuer_cell(v)))
    console.print(table)
    for v in verdicts:
        notable = [f for f in v.findings if f.severity is not Severity.INFO] or (
            list(v.findings) if v.status is not Status.OK else [])
        if not notable:
            continue
        label = v.host if v.port == 443 else f"{v.host}:{v.port}"
        console.print(Text(f"\n{_SYMBOL[v.status]} {label}: {tr('status.' + v.status.value)}",
                           style=_STYLE[v.status]))
        if v.interceptor is not None:
            console.print(f"  {v.interceptor.name} — {tr('kind.' + v.interceptor.kind.value)}"
                          f" ({tr('match.' + v.interceptor.match.value)})", markup=False)
        for f in notable:
            console.print(f"  [{f.severity.value}] {f.id}: {tr.finding(f)}", markup=False)
        ct = _ct_line(v, tr)
        if ct:
            console.print(f"  {ct}", markup=False)
        advice = tr.advice(v)
        if advice:
            console.print(f"  {tr('cli.what_to_do')}: {advice}", markup=False)
    s = summary(verdicts)
    other = s["total"] - s["ok"] - s["intercepted"] - s["suspicious"]
    console.print("\n" + tr("cli.summary", ok=s["ok"], intercepted=s["intercepted"], suspicious=s["suspicious"],
                            other=other), markup=False)


def audit_to_json(report: AuditReport, tr: Translator, generated_at: datetime, anchors: str) -> str:
    return json.dumps(audit_document(report, tr, generated_at, anchors), indent=2, ensure_ascii=False)


def audit_document(report: AuditReport, tr: Translator, generated_at: datetime, anchors: str) -> dict[str, Any]:
    """The audit as the JSON contract has it (``audit --json`` and the API's ``/api/audit``)."""
    roots = []
    for r in report.roots:
        d = r.to_dict()
        if r.verdict != "expected":
            d["how_to_remove"] = {loc.store: tr(f"audit.remove.{loc.store}") for loc in r.locations}
        roots.append(d)
    return {"certguard_version": __version__, "generated_at": iso(generated_at), "language": tr.lang,
            "anchors": anchors, "scanned": [{"store": s, "location": loc} for s, loc in report.scanned],
            "roots": roots,
            "problems": [{"store": p.store, "location": p.location, "message": p.message} for p in report.problems],
            "notes": [{"store": n.store, "location": n.location, "message": n.message} for n in report.notes],
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
            where = "\n".join(f"{loc.location} ({tr('audit.trust.' + loc.trust)})" for loc in r.locations)
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
            console.print(f"  {r.interceptor.name} — {tr('kind.' + r.interceptor.kind.value)}"
                          f" ({tr('match.' + r.interceptor.match.value)})", markup=False)
        if r.anchored:
            console.print("  " + tr("audit.anchored", hosts=", ".join(r.anchored)), markup=False)
        for store in dict.fromkeys(loc.store for loc in r.locations):
            console.print(f"  {tr('audit.how_to_remove')}: {tr('audit.remove.' + store)}", markup=False)
    for p in report.problems:
        console.print(tr("audit.problem", location=p.location, message=p.message), markup=False, style="yellow")
    for n in report.notes:
        console.print(tr("audit.note", location=n.location, message=n.message), markup=False, style="yellow")
    console.print("\n" + tr("audit.summary", interceptor=c["interceptor"], trusted=c["trusted_interceptors"],
                            extra=c["extra"], expected=c["expected"], problems=c["problems"]), markup=False)
