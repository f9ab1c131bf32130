"""The status table of DESIGN.md §3 as an ordered tuple of small named rules. First match wins.

Each rule reads one ``Signals`` value and either passes (None) or decides: a status, a severity, maybe an
interceptor, and the findings that explain the decision. Its ``RuleId`` is stored in every verdict (``"rule"`` in
JSON, the API, reports and the history), so "why was this site called suspicious?" is answered by reading one
short function below. Rule ids are stable: never rename one (stored history refers to them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from certguard.judge import certs
from certguard.judge.exroots import ExRoot
from certguard.judge.findings import FindingId
from certguard.judge.models import Finding, InterceptorKind, InterceptorMatch, MatchStrength, Severity, Status
from certguard.judge.signals import Signals, f
from certguard.judge.verify import PathError


class RuleId(str, Enum):
    KNOWN_INTERCEPTOR = "known_interceptor"
    STATE_CA_OWN_DOMAIN = "state_ca_own_domain"
    NO_PUBLIC_ROOT = "no_public_root"
    UNREADABLE_LEAF = "unreadable_leaf"
    NOT_FOR_THIS_HOST = "not_for_this_host"
    ROGUE_PUBLIC_CA = "rogue_public_ca"
    PIN_MISMATCH = "pin_mismatch"
    CT_MISSING = "ct_missing"
    PINS_OUTDATED = "pins_outdated"
    CHAIN_CHANGED = "chain_changed"
    LEGACY_ROOT = "legacy_root"
    PUBLIC_OK = "public_ok"
    SITE_CERTIFICATE_PROBLEM = "site_certificate_problem"
    ROOT_LEFT_MOZILLA = "root_left_mozilla"
    # probes that produced no chain (analyze.failure_verdict)
    BLOCKED = "blocked"
    UNREACHABLE = "unreachable"
    PROXY_FAILED = "proxy_failed"
    OVERSIZED_CHAIN = "oversized_chain"  # a chain too large to capture: loud, never "blocked" (fail closed)
    # certguard could not decide: a bug, shown as one and never as another status
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True)
class Decision:
    rule: RuleId
    status: Status
    severity: Severity
    interceptor: InterceptorMatch | None = None
    lead: tuple[Finding, ...] = ()  # the findings that explain the decision, shown first
    tail: tuple[Finding, ...] = ()  # supporting facts shown after the chain's own findings


Rule = Callable[[Signals], Decision | None]

# A new issuing key after this long with the same one is worth a finding (routine renewals keep the key of the
# issuing CA; a new issuer key out of the blue is how a forged chain from a public CA first shows).
STABLE_PERIOD = timedelta(days=7)
_STRENGTH = {MatchStrength.SPKI: 0, MatchStrength.CERTIFICATE: 1, MatchStrength.NAME: 2, MatchStrength.NONE: 3}


def most_severe(matches: Sequence[InterceptorMatch]) -> InterceptorMatch:
    """The match to report: the most severe kind first (so a state root is never hidden behind a benign one),
    then the strongest evidence."""
    return min(matches, key=lambda m: (-m.kind.severity.rank, m.kind is not InterceptorKind.STATE,
                                       _STRENGTH[m.match]))


def _device_finding(s: Signals, m: InterceptorMatch) -> tuple[Finding, ...]:
    """DEVICE_TRUSTS_INTERCEPTOR: only ever about an interceptor's root (never about a public one)."""
    if not s.device_trusts or s.device is None or s.device.anchor is None:
        return ()
    anchor = s.device.anchor
    return (f(FindingId.DEVICE_TRUSTS_INTERCEPTOR, m.kind.severity, anchor=certs.name_str(anchor.subject),
              source=s.device.source, anchor_sha256=certs.fingerprint(anchor)),)


def _issuer_of(s: Signals, m: InterceptorMatch) -> str:
    return next((v.issuer or "" for v in s.views if v.sha256 == m.cert_sha256), "")


def known_interceptor(s: Signals) -> Decision | None:
    """A certificate the intel list knows by key or hash, for a domain it does not legitimately serve."""
    if not s.strong:
        return None
    m = most_severe(s.strong)
    fid = FindingId.KNOWN_STATE_INTERCEPTOR if m.kind is InterceptorKind.STATE else FindingId.KNOWN_INTERCEPTOR
    lead = f(fid, m.kind.severity, name=m.name, kind=m.kind.value, country=m.country, match=m.match.value,
             certificate_sha256=m.cert_sha256)
    return Decision(RuleId.KNOWN_INTERCEPTOR, Status.INTERCEPTED, m.kind.severity, m, (lead,), _device_finding(s, m))


def state_ca_own_domain(s: Signals) -> Decision | None:
    """A state CA on one of its own domains (Russia's root for gosuslugi.ru): not interception."""
    if s.public_ok or not s.legit or not s.legit_path:
        return None
    m = s.legit[0]
    return Decision(RuleId.STATE_CA_OWN_DOMAIN, Status.OK, Severity.INFO,
                    lead=(f(FindingId.STATE_CA_LEGITIMATE, Severity.INFO, name=m.name, country=m.country),))


def no_public_root(s: Signals) -> Decision | None:
    """No public root vouches for a leaf that claims to be the site, and CT does not vouch for it either.

    Whatever else the chain contains: odd certificates and unreadable fields only add evidence."""
    if s.public_ok or s.public_error is not PathError.UNTRUSTED or not s.claims_host or s.leaf_has_valid_scts:
        return None
    top = s.top
    issuer = (top.issuer if top is not None else None) or certs.UNREADABLE
    lead: list[Finding] = []
    if s.weak:
        m = most_severe(s.weak)
        # Certain that it is an interception (no public root); only *who* rests on a name, which can be copied.
        lead.append(f(FindingId.INTERCEPTOR_NAME_MATCH, Severity.INFO, name=m.name, kind=m.kind.value,
                      country=m.country, issuer=_issuer_of(s, m)))
    else:
        anchor = s.device.anchor if s.device_trusts and s.device is not None else None
        name = certs.name_str(anchor.issuer) if anchor is not None else issuer
        m = InterceptorMatch("unknown", name, InterceptorKind.UNKNOWN, None, MatchStrength.NONE,
                             top.sha256 if top is not None else "")
    detail = s.public.detail if s.public is not None else "the server's certificate cannot be read"
    lead.insert(0, f(FindingId.UNTRUSTED_ROOT, m.kind.severity, issuer=issuer, detail=detail))
    return Decision(RuleId.NO_PUBLIC_ROOT, Status.INTERCEPTED, m.kind.severity, m, tuple(lead), _device_finding(s, m))


def unreadable_leaf(s: Signals) -> Decision | None:
    """The server's own certificate cannot be read at all, and nothing in it names the site: no browser would
    accept it, and no public root vouches for it. Loud, because it could hide anything."""
    if s.leaf_readable:
        return None
    return Decision(RuleId.UNREADABLE_LEAF, Status.SUSPICIOUS, Severity.CRITICAL,
                    lead=(f(FindingId.UNREADABLE_LEAF, Severity.CRITICAL,
                            detail="; ".join(s.leaf.problems) if s.leaf else "no certificate"),))


def not_for_this_host(s: Signals) -> Decision | None:
    """Not the site's certificate at all: a login page (hotel, airport) or a block page."""
    if s.public_ok or s.claims_host or s.leaf is None:
        return None
    leaf = s.leaf
    return Decision(RuleId.NOT_FOR_THIS_HOST, Status.CAPTIVE_PORTAL, Severity.WARNING,
                    lead=(f(FindingId.NAME_MISMATCH, Severity.WARNING, names=", ".join(leaf.dns_names),
                            subject=leaf.subject or certs.UNREADABLE),))


def _pin_finding(s: Signals, fid: FindingId | None = None, severity: Severity = Severity.WARNING) -> Finding:
    anchor = s.public.anchor if s.public is not None else None
    if fid is None:
        fid = FindingId.PIN_BAD_KEY if s.pins.bad_key else FindingId.PIN_MISMATCH
    return f(fid, severity, pinset=s.pins.pinset, bad_key=s.pins.bad_key,
             anchor=certs.name_str(anchor.subject) if anchor is not None else None)


def _ct_failed(s: Signals) -> bool:
    return s.ct is not None and s.ct.enforced and not s.ct.policy_met


def rogue_public_ca(s: Signals) -> Decision | None:
    """Publicly trusted, but neither the CA the site is pinned to nor logged in CT: a rogue public CA
    (DigiNotar, 2011)."""
    if not s.public_ok or s.pins.matched is not False or not _ct_failed(s):
        return None
    return Decision(RuleId.ROGUE_PUBLIC_CA, Status.SUSPICIOUS, Severity.CRITICAL, lead=(_pin_finding(s),))


def pin_mismatch(s: Signals) -> Decision | None:
    """Publicly trusted but not the CA the site is pinned to, and nothing else speaks for it: a pinset Chrome
    enforces too (``high``), a key the pinset names as bad, or CT that does not show it logged by two operators."""
    if not s.public_ok or s.pins.matched is not False:
        return None
    logged = s.ct is not None and s.ct.vouches
    if s.pin_confidence != "high" and not s.pins.bad_key and logged:
        return None  # pins_outdated
    return Decision(RuleId.PIN_MISMATCH, Status.SUSPICIOUS, Severity.WARNING, lead=(_pin_finding(s),))


def ct_missing(s: Signals) -> Decision | None:
    """Publicly trusted but not logged as Chrome's CT policy requires: how a rogue public CA shows today."""
    if not s.public_ok or not _ct_failed(s):
        return None
    return Decision(RuleId.CT_MISSING, Status.SUSPICIOUS, Severity.WARNING)


def pins_outdated(s: Signals) -> Decision | None:
    """Publicly trusted and logged in CT by two operators, just not the CA a (medium-confidence) pinset names:
    sites change CAs; say so without an alarm."""
    if not s.public_ok or s.pins.matched is not False:
        return None
    return Decision(RuleId.PINS_OUTDATED, Status.OK, Severity.WARNING,
                    lead=(_pin_finding(s, FindingId.PINS_OUTDATED),))


def _public_tail(s: Signals) -> tuple[Finding, ...]:
    """A public chain whose issuer merely resembles an interceptor's name: worth a note, not an alarm."""
    if not s.weak:
        return ()
    m = most_severe(s.weak)
    return (f(FindingId.INTERCEPTOR_NAME_MATCH, Severity.INFO, name=m.name, kind=m.kind.value,
              issuer=_issuer_of(s, m)),)


def ex_root_finding(fid: FindingId, root: ExRoot | None) -> tuple[Finding, ...]:
    """LEGACY_ROOT / DISTRUSTED_ROOT: which root that left Mozilla's program the chain ends at, and since when."""
    if root is None:
        return ()
    return (f(fid, Severity.INFO, root=root.name, removed_in_certifi=root.removed_in_certifi, sha256=root.sha256),)


def _legacy_finding(s: Signals) -> tuple[Finding, ...]:
    return ex_root_finding(FindingId.LEGACY_ROOT, s.public_via)


def chain_changed(s: Signals) -> Decision | None:
    """Publicly trusted, but issued by a different key than the one seen for a week or more on this network."""
    h = s.history
    if not s.public_ok or h is None or s.public is None or s.public.path is None:
        return None
    key = _issuer_key(s)
    if key is None or key == h.issuer_key or h.last_seen - h.stable_since < STABLE_PERIOD:
        return None
    lead = f(FindingId.CHAIN_CHANGED, Severity.WARNING, previous_issuer_key=h.issuer_key, issuer_key=key,
             stable_since=h.stable_since.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return Decision(RuleId.CHAIN_CHANGED, Status.OK, Severity.WARNING, lead=(lead,),
                    tail=_legacy_finding(s) + _public_tail(s))


def _issuer_key(s: Signals) -> str | None:
    """Same definition as ``Verdict.issuer_key``: the second received certificate's SPKI, else the leaf's issuer."""
    if len(s.views) > 1:
        return s.views[1].spki_sha256
    return s.leaf.issuer if s.leaf is not None else None


def legacy_root(s: Signals) -> Decision | None:
    """A genuine public chain that ends at a root Mozilla retired (not distrusted): fine today, but browsers may
    start to warn, so the site should move on."""
    if not s.public_ok or s.public_via is None:
        return None
    return Decision(RuleId.LEGACY_ROOT, Status.OK, Severity.INFO, lead=_legacy_finding(s), tail=_public_tail(s))


def public_ok(s: Signals) -> Decision | None:
    """A public path, pins match (or no pins), CT fine (or not judgeable)."""
    if not s.public_ok:
        return None
    return Decision(RuleId.PUBLIC_OK, Status.OK, Severity.INFO, tail=_public_tail(s))


def site_certificate_problem(s: Signals) -> Decision | None:
    """A public chain with a site-side fault: the clock, the name, or a leaf that breaks the WebPKI profile."""
    if s.public is None or s.public.error not in (PathError.EXPIRED, PathError.NOT_YET_VALID, PathError.NAME_MISMATCH):
        return None
    fid = {PathError.EXPIRED: FindingId.CERT_EXPIRED, PathError.NOT_YET_VALID: FindingId.CERT_NOT_YET_VALID,
           PathError.NAME_MISMATCH: FindingId.NAME_MISMATCH}[s.public.error]
    leaf = s.leaf
    assert leaf is not None  # a path result exists only for a readable leaf
    lead = f(fid, Severity.WARNING, not_before=leaf.not_before.isoformat() if leaf.not_before else None,
             not_after=leaf.not_after.isoformat() if leaf.not_after else None, detail=s.public.detail)
    return Decision(RuleId.SITE_CERTIFICATE_PROBLEM, Status.MISCONFIGURED, Severity.WARNING, lead=(lead,),
                    tail=_legacy_finding(s))


def root_left_mozilla(s: Signals) -> Decision | None:
    """No Mozilla root vouches, but the leaf carries SCTs that verify from known logs: a genuinely public
    certificate (an interceptor cannot get SCTs for its forged leaf) whose root left or never joined Mozilla."""
    if s.public_ok or not s.leaf_has_valid_scts:
        return None
    top = s.top
    lead = f(FindingId.ROOT_NOT_IN_MOZILLA, Severity.WARNING, issuer=(top.issuer if top else None) or certs.UNREADABLE,
             detail=s.public.detail if s.public is not None else None)
    return Decision(RuleId.ROOT_LEFT_MOZILLA, Status.MISCONFIGURED, Severity.WARNING, lead=(lead,))


# The order is the decision: first match wins.
RULES: tuple[Rule, ...] = (
    known_interceptor,
    state_ca_own_domain,
    no_public_root,
    unreadable_leaf,
    not_for_this_host,
    rogue_public_ca,
    pin_mismatch,
    ct_missing,
    pins_outdated,
    chain_changed,
    legacy_root,
    public_ok,
    site_certificate_problem,
    root_left_mozilla,
)


def decide(s: Signals) -> Decision | None:
    """The first rule that decides; None means no rule matched (a gap in the table: a bug in certguard)."""
    for rule in RULES:
        decision = rule(s)
        if decision is not None:
            return decision
    return None
