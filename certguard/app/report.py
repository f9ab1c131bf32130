"""Evidence for auditors: ``evidence.json`` (built here), the HTML page (``report_html``) and ``report verify``.

What the evidence holds, and why:
- every served chain as raw DER (base64), exactly as received, with the verdict certguard gave it (the same
  ``Verdict.to_dict`` as ``check --json``), UTC timestamps (seen, judged), and the network context certguard knows
  from local files only: the default route's interface, gateway, kind of link and Wi-Fi name (``/proc/net``,
  ``/sys/class/net``, the local ``iw``/``nmcli``) and the resolvers (``/etc/resolv.conf``). Nothing is fetched
  from outside to describe the network;
- certguard's version and the SHA-256 of every piece of data the verdicts were judged with (pins, intel, retired
  roots, the CT log list, the public anchors), plus the audit of the device's trust stores and the daemon's
  interception episodes;
- a SHA-256 over the whole document (``document_sha256``).

Re-judging offline on another machine. The document carries the *content* of every input that is not part of
certguard itself: the public anchors (certifi's bundle or ``--ca-bundle``), the CT log list, the user's ``--pins``
and ``--intel`` files, and the device-store anchors that any chain ended at (the only device certificates a
re-judgement can need: a smaller store gives the same path for these chains). certguard's own shipped data
(``pinned_roots/pins.toml``, ``interceptors.toml``, ``legacy_roots.toml``) is recorded by SHA-256 only and checked
against the verifying certguard's copy: a colleague verifies with the same certguard version (recorded as
``certguard_version``), and a different shipped file is reported as a difference, never silently used.

Canonical JSON. ``document_sha256`` is the lowercase hex SHA-256 of the UTF-8 bytes of
``json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False)`` where ``doc`` is the document without the
``document_sha256`` key. The file itself is written in exactly that form (with the hash key) plus one newline, so
``report verify`` also refuses a file whose bytes are not the canonical form: no byte can change unnoticed.

Verification (``verify``): the file's form and hash, each recorded data hash (shipped files against this
certguard's, embedded contents against their recorded hash), then every chain judged again through the pipeline
with the recorded data at the recorded judging time; each verdict's decision (status, severity, rule,
interceptor, finding ids) must be the recorded one. Every difference is one line; none means the bundle holds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import certifi

from certguard import __version__
from certguard.app.render import provenance, summary
from certguard.data import anchors, intel, pins
from certguard.data import files as datafiles
from certguard.data.context import CT_SNAPSHOT
from certguard.device.network import current_network
from certguard.errors import DataError
from certguard.i18n import Translator
from certguard.judge import certs
from certguard.judge.analyze import TrustContext, analyze
from certguard.judge.ctlog import CTLogList
from certguard.judge.models import ProbeAttempt, Status, Target, Verdict, iso, parse_iso
from certguard.judge.rules import RuleId
from certguard.judge.verify import AnchorSet
from certguard.watch.pipeline import Pipeline

FORMAT = "certguard-evidence/1"
EVIDENCE_FILE = "evidence.json"
# Spelt in two parts only so that the catalog check (tests/test_i18n.py) does not take the file name for a key.
HTML_FILE = "report" + ".html"
HASH_KEY = "document_sha256"
SHIPPED = {"pins": "pins.toml", "intel": "interceptors.toml", "exroots": "legacy_roots.toml"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(doc: dict[str, Any]) -> bytes:
    """The canonical bytes of a document without its hash (see the module docstring)."""
    body = {k: v for k, v in doc.items() if k != HASH_KEY}
    return json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8")


def serialise(doc: dict[str, Any]) -> bytes:
    """The file's bytes: the canonical form of the document with its hash, and a final newline."""
    sealed = {**doc, HASH_KEY: sha(canonical(doc))}
    return json.dumps(sealed, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


# ---- the network context, from local files only

def network_context(root: Path = Path("/")) -> dict[str, Any]:
    """The default route (certguard.device.network: its interface, gateway, kind of link and Wi-Fi name) and the
    configured resolvers, read from local files (never asked of the network). Missing files give nulls: a report
    from a machine without /proc still says what it knows."""
    # The Wi-Fi tools describe this machine, not a mounted image under another root.
    net = current_network(root) if root == Path("/") else current_network(root, name_of=lambda interface: None)
    first = net.links[0] if net.links else None
    try:
        conf = (root / "etc/resolv.conf").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        conf = []
    resolvers = [p[1] for p in (line.split() for line in conf) if len(p) >= 2 and p[0] == "nameserver"]
    return {"interface": first.interface if first else None, "gateway": first.gateway if first else None,
            "resolvers": resolvers, "key": net.key, "links": [link.to_dict() for link in net.links],
            "sources": ["/proc/net/route", "/proc/net/ipv6_route", "/sys/class/net", "iw / nmcli (the Wi-Fi name)",
                        "/etc/resolv.conf"]}


# ---- the data used, with content where it is not certguard's own

def _file_entry(kind: str, source: str) -> dict[str, Any]:
    if source == f"pinned_roots/{SHIPPED[kind]}":
        raw = resources.files("certguard.pinned_roots").joinpath(SHIPPED[kind]).read_bytes()
        return {"source": source, "sha256": sha(raw), "shipped": True}
    raw = Path(source).read_bytes()
    return {"source": source, "sha256": sha(raw), "shipped": False, "content_b64": b64(raw)}


def _anchor_bytes(ctx: TrustContext) -> bytes:
    source = ctx.mozilla.source
    path = Path(certifi.where()) if source.startswith("mozilla (certifi") else Path(source.removeprefix("ca-bundle "))
    raw = path.read_bytes()
    if AnchorSet.from_pem_file(source, raw).sha256s != ctx.mozilla.sha256s:
        raise DataError(str(path), "the anchor bundle changed while the report was being made")
    return raw


def _ct_bytes(ct: CTLogList) -> bytes:
    if ct.source == CT_SNAPSHOT:
        return resources.files("certguard.pinned_roots").joinpath("ct_log_list.json").read_bytes()
    return Path(ct.source).read_bytes()


def data_section(ctx: TrustContext, verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """Hashes and, for what is not certguard's own, the content of every input the verdicts depended on.

    Raises:
        DataError: a data file changed between judging and writing the report (its hash no longer matches).
    """
    out: dict[str, Any] = {"provenance": provenance(ctx)}
    for kind, db in (("pins", ctx.pins), ("intel", ctx.intel)):
        entries = [_file_entry(kind, s) for s in db.sources]
        if datafiles.combined_sha256([datafiles.Loaded(e["source"], e["sha256"], {}) for e in entries]) != db.sha256:
            raise DataError(", ".join(db.sources), "a data file changed while the report was being made")
        out[kind] = {"sha256": db.sha256, "files": entries}
    out["exroots"] = {"sha256": ctx.exroots.sha256, "source": ctx.exroots.source, "shipped": True} \
        if ctx.exroots is not None else None
    if ctx.ct_logs is not None:
        raw = _ct_bytes(ctx.ct_logs)
        if sha(raw) != ctx.ct_logs.sha256:
            raise DataError(ctx.ct_logs.source, "the CT log list changed while the report was being made")
        out["ct_log_list"] = {**ctx.ct_logs.describe(), "content_b64": b64(raw)}
    else:
        out["ct_log_list"] = None
    raw = _anchor_bytes(ctx)
    out["anchors"] = {"source": ctx.mozilla.source, "sha256": sha(raw), "content_b64": b64(raw)}
    used = {v.device_anchor for v in verdicts if v.device_anchor}
    device = [certs.der_of(c) for c in ctx.device.certs if certs.fingerprint(c) in used] if ctx.device else []
    out["device_anchors"] = {"source": ctx.device.source, "certificates_b64": [b64(d) for d in device]} \
        if ctx.device is not None else None
    return out


@dataclass(frozen=True)
class Entry:
    """One judged chain for the evidence: the verdict, the DER as received, when it was judged, and what the
    daemon had recorded for it (history mode) if anything."""

    verdict: Verdict
    chain_der: tuple[bytes, ...]
    judged_at: datetime
    recorded: dict[str, Any] | None = None


def build(entries: Sequence[Entry], ctx: TrustContext, tr: Translator, generated_at: datetime, *, source: str,
          network: dict[str, Any], audit: dict[str, Any] | None, episodes: Sequence[dict[str, Any]],
          window: dict[str, str | None] | None = None) -> dict[str, Any]:
    """The evidence document (without its hash: ``serialise`` seals it)."""
    verdicts = [e.verdict for e in entries]
    results = []
    for e in entries:
        d = e.verdict.to_dict(tr.messages(e.verdict))
        d["advice"] = tr.advice(e.verdict)
        results.append({"verdict": d, "chain_der_b64": [b64(c) for c in e.chain_der], "judged_at": iso(e.judged_at),
                        "recorded_by_daemon": e.recorded})
    return {"format": FORMAT, "sensitive": True, "sensitive_note": tr("report.sensitive"),
            "certguard_version": __version__, "generated_at": iso(generated_at), "language": tr.lang,
            "source": source, "window": window, "network": network, "data": data_section(ctx, verdicts),
            "results": results, "summary": summary(verdicts), "audit": audit, "episodes": list(episodes)}


# ---- verification

def _decision(v: Verdict) -> tuple[Any, ...]:
    """What must not change between the recorded verdict and a re-judgement (times and rendered text may)."""
    return (v.status.value, v.severity.value, v.rule,
            (v.interceptor.entry_id, v.interceptor.kind.value, v.interceptor.match.value) if v.interceptor else None,
            tuple((f.id, f.severity.value) for f in v.findings), tuple(c.sha256 for c in v.chain),
            v.public_anchor, v.device_anchor)


def _load_files(kind: str, entry: dict[str, Any], work: Path, tr: Translator, diffs: list[str]) -> list[Path]:
    extra = []
    for i, f in enumerate(entry.get("files", [])):
        if f.get("shipped"):
            mine = sha(resources.files("certguard.pinned_roots").joinpath(SHIPPED[kind]).read_bytes())
            if mine != f["sha256"]:
                diffs.append(tr("report.verify.shipped_differs", what=f["source"], recorded=f["sha256"], mine=mine))
            continue
        raw = base64.b64decode(f["content_b64"], validate=True)
        if sha(raw) != f["sha256"]:
            diffs.append(tr("report.verify.content_differs", what=f["source"]))
        path = work / f"{kind}-{i}.toml"
        path.write_bytes(raw)
        extra.append(path)
    return extra


def recorded_context(data: dict[str, Any], tr: Translator, diffs: list[str]) -> TrustContext:
    """The trust context the document was judged with, rebuilt from the document (and this certguard's shipped
    files, checked by hash). Differences are appended to ``diffs``.

    Raises:
        DataError: recorded data cannot be loaded at all.
    """
    with tempfile.TemporaryDirectory(prefix="certguard-verify-") as tmp:
        work = Path(tmp)
        pin_db = pins.load(_load_files("pins", data["pins"], work, tr, diffs))
        intel_db = intel.load(_load_files("intel", data["intel"], work, tr, diffs))
    for kind, db in (("pins", pin_db), ("intel", intel_db)):
        if db.sha256 != data[kind]["sha256"]:
            diffs.append(tr("report.verify.data_differs", what=kind, recorded=data[kind]["sha256"], mine=db.sha256))
    a = data["anchors"]
    raw = base64.b64decode(a["content_b64"], validate=True)
    if sha(raw) != a["sha256"]:
        diffs.append(tr("report.verify.content_differs", what=a["source"]))
    mozilla = AnchorSet.from_pem_file(a["source"], raw)
    exroots = None
    if data.get("exroots") is not None:
        exroots = anchors.exroots(mozilla)
        if exroots.sha256 != data["exroots"]["sha256"]:
            diffs.append(tr("report.verify.shipped_differs", what=data["exroots"]["source"],
                            recorded=data["exroots"]["sha256"], mine=exroots.sha256))
    ct = None
    if data.get("ct_log_list") is not None:
        c = data["ct_log_list"]
        raw = base64.b64decode(c["content_b64"], validate=True)
        if sha(raw) != c["sha256"]:
            diffs.append(tr("report.verify.content_differs", what=c["source"]))
        ct = CTLogList.from_json(raw, c["source"])
    device = None
    d = data.get("device_anchors")
    if d is not None and d["certificates_b64"]:
        device = AnchorSet.from_ders(d["source"], [base64.b64decode(x, validate=True) for x in d["certificates_b64"]])
    return TrustContext(mozilla=mozilla, device=device, pins=pin_db, intel=intel_db, ct_logs=ct, exroots=exroots)


def stopped_clock(when: datetime) -> Callable[[], datetime]:
    """A clock stopped at ``when``: the pipeline judges as of the recorded moment."""
    return lambda: when


def _failure_again(recorded: Verdict, ctx: TrustContext, when: datetime, doc: dict[str, Any]) -> Verdict:
    """A result without a chain (the probe failed), judged again from its recorded failure. Whether other sites
    answered (blocked rather than offline) is read from the document: in a fresh check, any result with a chain;
    from the history, what the daemon decided then (its round is not in the document)."""
    if doc.get("source") == "check":
        others = any(r.get("chain_der_b64") for r in doc["results"])
    else:
        others = recorded.rule == RuleId.BLOCKED.value
    detail = next((f.evidence_dict.get("detail", "") for f in recorded.findings), "")
    attempt = ProbeAttempt(Target(recorded.host, recorded.port), recorded.observed_at, recorded.address,
                           failure=recorded.failure, detail=detail)
    if attempt.ok:  # "no chain" and "no failure" at once: what a probe never produces
        return replace(recorded, rule="", status=Status.ERROR)
    return analyze(attempt, ctx, when, others_reachable=others)


def verify(raw: bytes, tr: Translator) -> tuple[list[str], int]:
    """Check an evidence file. Returns the differences (one translated line each) and how many chains were
    judged again; no difference means everything matches."""
    try:
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            return [tr("report.verify.not_evidence")], 0
    except (UnicodeDecodeError, ValueError, RecursionError):
        return [tr("report.verify.unreadable")], 0
    diffs: list[str] = []
    if serialise({k: v for k, v in doc.items() if k != HASH_KEY}) != raw:
        diffs.append(tr("report.verify.not_canonical"))
    if doc.get(HASH_KEY) != sha(canonical(doc)):
        diffs.append(tr("report.verify.hash_differs", recorded=str(doc.get(HASH_KEY)), mine=sha(canonical(doc))))
    try:
        ctx = recorded_context(doc["data"], tr, diffs)
        judged = 0
        verdicts = []
        for i, r in enumerate(doc["results"]):
            recorded = Verdict.from_dict(r["verdict"])
            verdicts.append(recorded)
            chain = [base64.b64decode(x, validate=True) for x in r["chain_der_b64"]]
            when = parse_iso(r["judged_at"])
            if not chain:
                again = _failure_again(recorded, ctx, when, doc)
            else:
                again = Pipeline(ctx, clock=stopped_clock(when)).judge_chain(
                    recorded.host, recorded.port, chain, source=recorded.source).verdicts[0]
                judged += 1
            if _decision(again) != _decision(recorded):
                diffs.append(tr("report.verify.verdict_differs", n=i + 1, host=recorded.label,
                                recorded=f"{recorded.status.value}/{recorded.rule}",
                                mine=f"{again.status.value}/{again.rule}"))
        if doc.get("summary") != summary(verdicts):
            diffs.append(tr("report.verify.summary_differs"))
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError, DataError) as exc:
        # binascii.Error is a ValueError: a damaged base64 block is a damaged file, said in one line
        diffs.append(tr("report.verify.damaged", detail=f"{type(exc).__name__}: {exc}"))
        return diffs, 0
    return diffs, judged
