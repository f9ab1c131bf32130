"""Roots that left Mozilla's program: retired ones (genuine chains still end there) and distrusted ones.

certifi follows Mozilla's list, and Mozilla retires old roots for age (DigiCert Global Root CA, Baltimore
CyberTrust, GlobalSign R1…) while long-lived cross-signs keep them at the end of real chains. Judged against
today's certifi alone, those genuine chains look exactly like an interception. A path that verifies *by
signature* to a retired root is a public chain (``LEGACY_ROOT``); a root removed *for distrust* never vouches for
anything, it is only named (``DISTRUSTED_ROOT``). The certificates ship in ``pinned_roots/legacy_roots.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from certguard.judge.verify import AnchorSet

RETIRED, DISTRUSTED = "retired", "distrusted"


@dataclass(frozen=True)
class ExRoot:
    """One root that left Mozilla's program, with why (provenance for the finding)."""

    name: str
    sha256: str
    spki_sha256: str
    reason: str  # RETIRED or DISTRUSTED
    last_certifi: str
    removed_in_certifi: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class ExRoots:
    """Both sets as anchors (for path building), plus the facts about each root by certificate SHA-256.

    A root that is (back) in the current Mozilla set is left out of both: Mozilla's word today wins.
    """

    retired: AnchorSet | None
    distrusted: AnchorSet | None
    info: dict[str, ExRoot]
    sha256: str  # of the data file: provenance in every result
    source: str

    def about(self, sha256: str | None) -> ExRoot | None:
        return self.info.get(sha256 or "")
