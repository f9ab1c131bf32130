"""Stable finding ids. Reports, the API, stored history and translations use these strings: never rename one."""

from __future__ import annotations

from enum import Enum


class FindingId(str, Enum):
    # interception
    KNOWN_STATE_INTERCEPTOR = "KNOWN_STATE_INTERCEPTOR"  # strong intel match, kind state
    KNOWN_INTERCEPTOR = "KNOWN_INTERCEPTOR"  # strong intel match, any other kind
    INTERCEPTOR_NAME_MATCH = "INTERCEPTOR_NAME_MATCH"  # issuer name looks like a known interceptor (weak)
    UNTRUSTED_ROOT = "UNTRUSTED_ROOT"  # no path to a Mozilla root, leaf claims the host
    DEVICE_TRUSTS_INTERCEPTOR = "DEVICE_TRUSTS_INTERCEPTOR"  # ...and this device's trust store accepts it
    STATE_CA_LEGITIMATE = "STATE_CA_LEGITIMATE"  # a state CA serving a domain it legitimately serves
    # site-side problems and portals
    NAME_MISMATCH = "NAME_MISMATCH"
    CERT_EXPIRED = "CERT_EXPIRED"
    CERT_NOT_YET_VALID = "CERT_NOT_YET_VALID"
    ROOT_NOT_IN_MOZILLA = "ROOT_NOT_IN_MOZILLA"  # unknown root, but the leaf has valid SCTs: genuinely public
    LEGACY_ROOT = "LEGACY_ROOT"  # the path ends at a root Mozilla retired (not distrusted): genuine, may warn soon
    DISTRUSTED_ROOT = "DISTRUSTED_ROOT"  # the chain ends at a root Mozilla removed for distrust (never trusted)
    UNREADABLE_LEAF = "UNREADABLE_LEAF"  # the server's own certificate cannot be read at all
    # public-CA abuse signals
    PIN_MISMATCH = "PIN_MISMATCH"
    PIN_BAD_KEY = "PIN_BAD_KEY"
    PINS_OUTDATED = "PINS_OUTDATED"  # public + logged in CT, but not the CA the (medium-confidence) pinset expects
    CT_INSUFFICIENT = "CT_INSUFFICIENT"
    CT_INVALID_SCT = "CT_INVALID_SCT"
    CT_LIST_STALE = "CT_LIST_STALE"
    CT_NOT_CHECKED = "CT_NOT_CHECKED"
    CT_LIST_TOO_NEW = "CT_LIST_TOO_NEW"  # the list is much newer than the judged moment: CT shown, not enforced
    # the chain as served
    MALFORMED_CERTIFICATE = "MALFORMED_CERTIFICATE"
    EXTRA_CERTIFICATES = "EXTRA_CERTIFICATES"
    CHAIN_OUT_OF_ORDER = "CHAIN_OUT_OF_ORDER"
    # reachability
    HANDSHAKE_BLOCKED = "HANDSHAKE_BLOCKED"
    UNREACHABLE = "UNREACHABLE"
    PROXY_FAILED = "PROXY_FAILED"
    OVERSIZED_CHAIN = "OVERSIZED_CHAIN"  # the server sent more than OpenSSL reads: its chain cannot be judged
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # history (daemon) and data
    CHAIN_CHANGED = "CHAIN_CHANGED"
    PINS_STALE = "PINS_STALE"
    # the browser companion: the browser saw another issuer than certguard's own probe at about the same time
    BROWSER_PROBE_DIFFER = "BROWSER_PROBE_DIFFER"
