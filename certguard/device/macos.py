"""macOS: the keychains via ``security find-certificate``, their TLS trust via ``security trust-settings-export``."""

from __future__ import annotations

import plistlib
import tempfile
from pathlib import Path
from typing import Any

from certguard.device import places
from certguard.device.files import Runner, _certs_from_bytes, _run
from certguard.errors import DataError
from certguard.judge import certs
from certguard.judge.storescan import DISTRUSTED, TRUSTED, UNTRUSTED, Installed, Problem, StoreScan

MACOS_SYSTEM_ROOTS = "/System/Library/Keychains/SystemRootCertificates.keychain"
MACOS_SYSTEM = "/Library/Keychains/System.keychain"
_SSL_POLICY_OIDS = {"1.2.840.113635.100.1.3", "1.2.840.113635.100.1.2"}  # AppleX509SSL, AppleX509Basic
_RESULT = {1: TRUSTED, 2: TRUSTED, 3: DISTRUSTED, 4: UNTRUSTED}  # kSecTrustSettingsResult{TrustRoot,AsRoot,Deny,Unsp.}


def _oid_from_der(data: bytes) -> str | None:
    """kSecTrustSettingsPolicy holds the OID's DER content octets (no tag/length)."""
    if not data:
        return None
    parts = [str(data[0] // 40), str(data[0] % 40)]
    value = 0
    for b in data[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(str(value))
            value = 0
    return ".".join(parts)


def parse_trust_settings(plist: bytes) -> dict[str, tuple[str, str]]:
    """``security trust-settings-export`` plist → {SHA-1 (upper hex): (TLS trust, detail)}.

    An empty ``trustSettings`` array means "trust as root for everything"; an entry without a result means
    TrustRoot; only entries for the SSL/basic policy, or for no policy, speak about TLS servers.

    Raises:
        DataError: not a trust-settings plist.
    """
    try:
        doc: dict[str, Any] = plistlib.loads(plist)
        trust_list = doc["trustList"]
    except (plistlib.InvalidFileException, ValueError, KeyError, TypeError) as exc:
        raise DataError("trust settings", f"not a trust-settings plist ({exc})") from exc
    out: dict[str, tuple[str, str]] = {}
    for sha1, entry in trust_list.items():
        settings = entry.get("trustSettings", []) if isinstance(entry, dict) else []
        if not settings:
            out[sha1.upper()] = (TRUSTED, "always trust (no constraints)")
            continue
        verdict = UNTRUSTED
        details = []
        for s in settings:
            oid = _oid_from_der(s.get("kSecTrustSettingsPolicy", b""))
            if oid is not None and oid not in _SSL_POLICY_OIDS:
                continue
            result = _RESULT.get(int(s.get("kSecTrustSettingsResult", 1)), UNTRUSTED)
            details.append(f"{s.get('kSecTrustSettingsPolicyName', oid or 'any')}: {result}")
            if result == DISTRUSTED or (result == TRUSTED and verdict != DISTRUSTED):
                verdict = result
        out[sha1.upper()] = (verdict, "; ".join(details) or "no TLS setting")
    return out


def read_macos(home: Path, run: Runner = _run) -> StoreScan:
    """Keychains via ``security find-certificate -a -p``; trust via ``security trust-settings-export``.

    Apple's own roots (SystemRootCertificates) are trusted unless a setting says otherwise; a certificate in the
    System or login keychain is only trusted when an admin or user trust setting makes it so.
    """
    scan = StoreScan()
    settings: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="certguard-") as tmp:  # private dir: no symlink games in /tmp
        for flag, label in (("-d", places.MACOS_ADMIN), ("", places.MACOS_USER)):
            export = Path(tmp) / f"{label.split()[0]}.plist"
            proc = run(["security", "trust-settings-export", *([flag] if flag else []), str(export)])
            if proc.returncode != 0 or not export.is_file():
                continue  # "no trust settings" is the common case, not a problem
            try:
                settings.update(parse_trust_settings(export.read_bytes()))
                scan.scanned.append(("macos", label))
            except DataError as exc:
                scan.problems.append(Problem("macos", label, exc.message, exc.key, tuple(exc.params.items())))
    for keychain in (MACOS_SYSTEM_ROOTS, MACOS_SYSTEM, str(home / "Library/Keychains/login.keychain-db")):
        proc = run(["security", "find-certificate", "-a", "-p", keychain])
        if proc.returncode != 0:
            if keychain != MACOS_SYSTEM_ROOTS and "login" in keychain:
                continue  # no login keychain (a service account): nothing to report
            scan.problems.append(Problem("macos", keychain, "security find-certificate failed",
                                         "problem.macos_find_failed"))
            continue
        scan.scanned.append(("macos", keychain))
        found = StoreScan()
        _certs_from_bytes(proc.stdout, "macos", keychain, UNTRUSTED, found)
        scan.problems += found.problems
        for e in found.entries:
            sha1 = certs.sha1_hex(e.der).upper()
            default = (TRUSTED, "Apple root") if keychain == MACOS_SYSTEM_ROOTS else (UNTRUSTED, "no trust setting")
            trust, detail = settings.get(sha1, default)
            scan.entries.append(Installed(e.der, "macos", keychain, trust, detail))
    return scan
