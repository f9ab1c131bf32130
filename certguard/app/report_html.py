"""The report page (``HTML_FILE`` in report.py): the evidence document rendered for people. Self-contained and inert.

The page is rendered from the evidence document itself (the same verdict dicts, already translated by the same
catalogs), so the HTML can never say something the JSON does not. Inline CSS only, no script, no image, no font,
no link to anything, and a Content-Security-Policy of ``default-src 'none'``: opened offline or online it makes no
request. Every value from a server or a file is escaped. Print styles keep each site and each certificate whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from certguard.app.render import store_label
from certguard.i18n import Translator
from certguard.judge.models import Verdict, overall
from certguard.judge.rules import RULES, RuleId
from certguard.watch.networks import network_label

_CSS = """
:root{color-scheme:light;--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--bad:#b3261e;--warn:#8a5300;--good:#1a7f37}
*{box-sizing:border-box}body{font:15px/1.5 system-ui,"DejaVu Sans",sans-serif;color:var(--ink);margin:0 auto;
max-width:60rem;padding:1.5rem}h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:2px solid var(--line);padding-bottom:.2rem}h3{font-size:1.05rem;margin:.2rem 0}
.sensitive{border:2px solid var(--bad);color:var(--bad);padding:.5rem .8rem;font-weight:600;border-radius:4px}
.meta{color:var(--muted)}table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;
vertical-align:top;border-bottom:1px solid var(--line);padding:.3rem .4rem}th{font-weight:600}
.site,.cert{border:1px solid var(--line);border-radius:4px;padding:.6rem .8rem;margin:.6rem 0;
break-inside:avoid}.status{font-weight:700}.s-intercepted,.s-suspicious,.s-error{color:var(--bad)}
.s-captive_portal,.s-misconfigured,.s-blocked{color:var(--warn)}.s-ok{color:var(--good)}
code,.hash{font-family:"DejaVu Sans Mono",monospace;font-size:.82rem;overflow-wrap:anywhere}
pre{font:.72rem/1.25 "DejaVu Sans Mono",monospace;white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;
padding:.4rem;margin:.3rem 0}.decided{font-weight:700}ol.rules li{margin:.15rem 0}
@media print{body{max-width:none;padding:0;font-size:11pt}h2{break-after:avoid}pre{font-size:7pt}
.sensitive{border-width:1pt}a{color:inherit}}
"""


def _e(text: object) -> str:
    return escape("" if text is None else str(text), quote=True)


def _status(tr: Translator, status: str) -> str:
    return f'<span class="status s-{_e(status)}">{_e(tr("status." + status))}</span>'


def _rows(cells: Iterable[Iterable[str]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)


def _site(r: dict[str, Any], tr: Translator) -> str:
    v = r["verdict"]
    label = v["host"] if v["port"] == 443 else f"{v['host']}:{v['port']}"
    out = [f'<section class="site"><h3>{_e(label)} — {_status(tr, v["status"])}</h3>',
           f'<p>{_e(tr("report.rule_label"))} <code>{_e(v["rule"])}</code> — {_e(tr("report.rule." + v["rule"]))}</p>']
    if v.get("interceptor"):
        i = v["interceptor"]
        name = tr.intel_name(i.get("id"), i["name"])
        out.append(f'<p>{_e(name)} — {_e(tr("kind." + i["kind"]))} ({_e(tr("match." + i["match"]))})</p>')
    if v["findings"]:
        out.append("<ul>" + "".join(f'<li><code>{_e(f["id"])}</code> [{_e(tr("ui.severity." + f["severity"]))}] '
                                    f'{_e(f["message"])}</li>' for f in v["findings"]) + "</ul>")
    if v.get("advice"):
        out.append(f'<p><strong>{_e(tr("cli.what_to_do"))}</strong> {_e(v["advice"])}</p>')
    seen = tr("report.seen", observed=v["observed_at"], judged=r["judged_at"], address=v.get("address") or "-")
    out.append(f'<p class="meta">{_e(seen)}</p>')
    rec = r.get("recorded_by_daemon")
    if rec and (rec.get("status"), rec.get("rule")) != (v["status"], v["rule"]):
        out.append(f'<p>{_e(tr("report.daemon_said", status=tr("status." + rec["status"]), rule=rec["rule"]))}</p>')
    return "".join(out) + "</section>"


def _chain(r: dict[str, Any], tr: Translator) -> str:
    v = r["verdict"]
    out = [f"<h3>{_e(v['host'])}:{_e(v['port'])}</h3>"]
    if not v["chain"]:
        out.append(f"<p>{_e(tr('report.no_chain'))}</p>")
    for n, c in enumerate(v["chain"]):
        role = tr("ui.chain.leaf") if n == 0 else tr("ui.chain.ca")
        marks = []
        if c["sha256"] == v.get("public_anchor"):
            marks.append(tr("ui.chain.public_anchor"))
        if c["sha256"] == v.get("device_anchor"):
            marks.append(tr("ui.chain.device_anchor"))
        rows = [(_e(tr("ui.chain.subject")), _e(c["subject"])), (_e(tr("ui.chain.issuer")), _e(c["issuer"])),
                (_e(tr("ui.chain.valid")), _e(tr("ui.chain.valid_range", **{"from": c["not_before"],
                                                                             "to": c["not_after"]}))),
                ("SHA-256", f'<span class="hash">{_e(c["sha256"])}</span>'),
                (_e(tr("ui.chain.spki")), f'<span class="hash">{_e(c["spki_sha256"])}</span>')]
        out.append(f'<div class="cert"><strong>{n + 1}. {_e(role)}</strong> {_e(" · ".join(marks))}'
                   f"<table>{_rows(rows)}</table><pre>{_e(c['pem'])}</pre></div>")
    return "".join(out)


def _audit(doc: dict[str, Any] | None, tr: Translator) -> str:
    if doc is None:
        return f"<p>{_e(tr('report.audit_not_run'))}</p>"
    c = doc["summary"]
    line = tr("audit.summary", interceptor=c["interceptor"], trusted=c["trusted_interceptors"], extra=c["extra"],
              expected=c["expected"], problems=c["problems"])
    out = [f"<p>{_e(line)}</p>"]
    # as 'audit' and the Device page: roots the OS vendor shipped from an older Mozilla list are one count line
    shown = [r for r in doc["roots"] if r["verdict"] != "expected" and not r.get("distribution")]
    if c.get("distribution_outdated"):
        out.append(f"<p>{_e(tr('audit.distribution_outdated', count=c['distribution_outdated']))}</p>")
    if shown:
        rows = [(f'{_e(r["subject"])}<br><span class="hash">{_e(r["sha256"])}</span>',
                 _e(tr("audit.verdict." + r["verdict"])),
                 "<br>".join(_e(f'{store_label(loc["store"], loc["location"], tr)} '
                                f'({tr("audit.trust." + loc["trust"])})') for loc in r["locations"]))
                for r in shown]
        cols = ("audit.col_certificate", "audit.col_verdict", "audit.col_where")
        head = "".join(f"<th>{_e(tr(k))}</th>" for k in cols)
        out.append(f"<table><tr>{head}</tr>{_rows(rows)}</table>")
    else:
        out.append(f"<p>{_e(tr('ui.device_clean'))}</p>")
    return "".join(out)


def _episodes(episodes: list[dict[str, Any]], tr: Translator) -> str:
    if not episodes:
        return f"<p>{_e(tr('report.episodes_none'))}</p>"
    items = []
    for ep in episodes:
        when = tr("report.episode_range", **{"from": ep["started_at"], "to": ep["ended_at"] or ep["last_seen"]})
        culprit = tr.known_name(ep["culprit"])  # the history keeps the English name (or an issuer's DN)
        network = ep.get("network_label") or ep["network"]  # named for people by 'report create'
        items.append(f'<li>{_status(tr, ep["status"])} {_e(culprit)} — {_e(network)}: {_e(when)}; '
                     f'{_e(tr("ui.episode_hosts", hosts=", ".join(ep["hosts"])))}</li>')
    return "<ul>" + "".join(items) + "</ul>"


def _how(doc: dict[str, Any], tr: Translator) -> str:
    decided = {r["verdict"]["rule"] for r in doc["results"]}
    order = [RuleId(r.__name__).value for r in RULES]  # each rule function is named after its stable id
    rules = "".join(f'<li{" class=decided" if r in decided else ""}><code>{_e(r)}</code> — '
                    f'{_e(tr("report.rule." + r))}</li>' for r in order)
    d = doc["data"]
    ct = d.get("ct_log_list")
    rows = [("pins", d["pins"]["sha256"], ", ".join(f["source"] for f in d["pins"]["files"])),
            ("intel", d["intel"]["sha256"], ", ".join(f["source"] for f in d["intel"]["files"])),
            ("exroots", (d["exroots"] or {}).get("sha256", "-"), (d["exroots"] or {}).get("source", "")),
            ("ct_log_list", ct["sha256"] if ct else "-",
             f'{ct["source"]} (v{ct["version"]}, {ct["timestamp"]})' if ct else tr("cli.ct_not_checked")),
            ("anchors", d["anchors"]["sha256"], d["anchors"]["source"]),
            ("device", "-", d["device_anchors"]["source"] if d["device_anchors"] else "-")]
    table = _rows((_e(k), f'<span class="hash">{_e(h)}</span>', _e(s)) for k, h, s in rows)
    return (f"<p>{_e(tr('report.how_intro'))}</p><ol class=rules>{rules}</ol>"
            f"<p>{_e(tr('report.how_data'))}</p><table>{table}</table>")


def render(doc: dict[str, Any], document_sha256: str, tr: Translator) -> str:
    """The report page for an evidence document (already sealed: its hash is quoted on the page)."""
    verdicts = [Verdict.from_dict(r["verdict"]) for r in doc["results"]]
    word = overall(verdicts)
    s = doc["summary"]
    counts = _rows((_status(tr, k), _e(n)) for k, n in s.items() if k != "total" and n)
    if doc["source"] == "history":
        w = doc.get("window") or {}
        origin = tr("report.source.history", since=w.get("since") or "-", until=w.get("until") or "-")
    else:
        origin = tr("report.source.check")
    net = doc["network"]
    named = network_label(tr, net["key"], net) if "key" in net else None  # reports before networks had keys
    network = tr("report.network", network=named or net["gateway"] or "-", interface=net["interface"] or "-",
                 resolvers=", ".join(net["resolvers"]) or "-")
    failures = [RuleId.BLOCKED.value, RuleId.UNREACHABLE.value, RuleId.PROXY_FAILED.value, RuleId.INTERNAL_ERROR.value]
    failure_rules = "".join(f"<li><code>{_e(r)}</code> — {_e(tr('report.rule.' + r))}</li>" for r in failures)
    return "".join([
        f'<!DOCTYPE html><html lang="{_e(tr.lang)}"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width">',
        f"<title>{_e(tr('report.title'))}</title><style>{_CSS}</style></head><body>",
        f'<p class="sensitive">{_e(tr("report.sensitive"))}</p>',
        f"<h1>{_e(tr('report.title'))}</h1>",
        f'<p class="meta">{_e(tr("report.generated", time=doc["generated_at"], version=doc["certguard_version"]))}'
        f"<br>{_e(origin)}<br>{_e(network)}</p>",
        f'<h2>{_e(tr("report.summary"))}</h2><p class="status s-{_e(word)}">{_e(tr("ui.overall." + word))}</p>',
        f"<p>{_e(tr('ui.overall_help.' + word))}</p><table>{counts}</table>",
        f"<h2>{_e(tr('report.sites'))}</h2>", *(_site(r, tr) for r in doc["results"]),
        f"<h2>{_e(tr('ui.chain.title'))}</h2>", *(_chain(r, tr) for r in doc["results"]),
        f"<h2>{_e(tr('report.audit'))}</h2>", _audit(doc.get("audit"), tr),
        f"<h2>{_e(tr('report.episodes'))}</h2>", _episodes(doc.get("episodes") or [], tr),
        f"<h2>{_e(tr('report.how'))}</h2>", _how(doc, tr), f"<ul>{failure_rules}</ul>",
        f'<p>{_e(tr("report.document_hash"))} <span class="hash">{_e(document_sha256)}</span></p>',
        "</body></html>\n",
    ])
