"""What a reading of a device's trust stores found: the value types shared by the readers (``certguard.device``)
and the judge (``certguard.judge.audit``).

Pure values: nothing here reads a store. A reader returns a ``StoreScan`` with each certificate it found, where it
lives and whether that store trusts it for TLS servers, plus the problems it met; a problem is a value, never an
exception, so an audit lists what it could read even when one store is broken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from certguard.judge import certs

# What a store says about a certificate, for TLS servers. Only TRUSTED makes it an anchor.
TRUSTED, UNTRUSTED, DISTRUSTED = "trusted", "untrusted", "distrusted"
# Every ``store`` a reader reports; each has removal advice in the catalogs (``audit.remove.<store>``).
STORES = ("linux", "nss", "nss-firefox", "nss-chromium", "macos", "windows", "file")


@dataclass(frozen=True)
class Installed:
    """One certificate in one place.

    Attributes:
        der: the certificate as the store holds it.
        store: kind of store, one of ``STORES``.
        location: a path, a profile, a keychain, a Windows store name (with the NSS nickname after ``: ``).
        trust: TRUSTED / UNTRUSTED / DISTRUSTED, for TLS servers.
        detail: the store's own words (NSS flags "CT,C,C", macOS result, Windows purposes); "" when it has none.
        distribution: shipped by the OS vendor's copy of Mozilla's list, not installed by someone.
    """

    der: bytes
    store: str
    location: str
    trust: str
    detail: str = ""
    distribution: bool = False


@dataclass(frozen=True)
class Problem:
    """Something a reader could not read (or, in ``StoreScan.notes``, a fact worth telling). ``message`` is English
    (``audit --json``, logs); ``key`` and ``params`` say the same through the catalogs (``problem.<what>``)."""

    store: str
    location: str
    message: str
    key: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    def text(self, tr: Callable[..., str]) -> str:
        """The message in the user's language (``tr``: an ``i18n.Translator``), else the English one."""
        return tr(self.key, **dict(self.params)) if self.key else self.message


@dataclass
class StoreScan:
    """Everything one or more readers found. Mutable on purpose: readers build it up with ``extend``.

    Attributes:
        entries: every certificate found, once per place (a root in two stores is two entries).
        problems: what could not be read.
        scanned: (store, location) actually read; a store that does not exist on this device is not listed.
        notes: facts worth telling (this Firefox also trusts the OS store).
    """

    entries: list[Installed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    scanned: list[tuple[str, str]] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    def extend(self, other: StoreScan) -> StoreScan:
        self.entries += other.entries
        self.problems += other.problems
        self.scanned += other.scanned
        self.notes += other.notes
        return self

    def trusted_ders(self) -> list[bytes]:
        """DER of every entry a store trusts for TLS servers, each certificate once (by SHA-256), in scan order."""
        seen: set[str] = set()
        out: list[bytes] = []
        for e in self.entries:
            if e.trust != TRUSTED:
                continue
            fp = certs.sha256_hex(e.der)
            if fp not in seen:
                seen.add(fp)
                out.append(e.der)
        return out
