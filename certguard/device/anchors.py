"""Where trust anchors come from: Mozilla's program (certifi, or --ca-bundle) and the device's own store.

Mozilla's set is the reference for "publicly trusted"; the device store is only ever used to say "your device
trusts this chain" (it may be poisoned: that is the point of certguard). Platform readers are chosen once and
share one signature; reading is file/command I/O, never the network.
"""

from __future__ import annotations

import platform
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import certifi

from certguard.errors import DataError
from certguard.judge.verify import AnchorSet

# Linux bundle locations, in the order distributions use them (same list as Go's crypto/x509 and truststore).
LINUX_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL 6
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL 7+, CentOS
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # Alpine
)

MACOS_KEYCHAINS = (
    "/System/Library/Keychains/SystemRootCertificates.keychain",
    "/Library/Keychains/System.keychain",
)


def mozilla(ca_bundle: Path | None = None) -> AnchorSet:
    """Mozilla's roots from certifi, or the anchors in ``ca_bundle`` instead (for tests and audits).

    Raises:
        DataError: the bundle is unreadable or holds no certificate.
    """
    if ca_bundle is None:
        path, source = Path(certifi.where()), f"mozilla (certifi {certifi.__version__})"
    else:
        path, source = ca_bundle, f"ca-bundle {ca_bundle}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    return AnchorSet.from_pem_file(source, data)


def _linux() -> AnchorSet | None:
    for candidate in LINUX_BUNDLES:
        p = Path(candidate)
        if p.is_file():
            return AnchorSet.from_pem_file(f"device ({candidate})", p.read_bytes())
    paths = ssl.get_default_verify_paths()
    if paths.cafile and Path(paths.cafile).is_file():
        return AnchorSet.from_pem_file(f"device ({paths.cafile})", Path(paths.cafile).read_bytes())
    return None


def _macos() -> AnchorSet | None:
    # `security find-certificate -a -p KEYCHAIN` prints every certificate of a keychain as PEM.
    pem = b""
    for keychain in MACOS_KEYCHAINS:
        proc = subprocess.run(["/usr/bin/security", "find-certificate", "-a", "-p", keychain],  # noqa: S603
                              capture_output=True, timeout=30, check=False)
        if proc.returncode == 0:
            pem += proc.stdout
    return AnchorSet.from_pem_file("device (macOS keychains)", pem) if pem else None


def _windows() -> AnchorSet | None:
    ders = []
    for store in ("ROOT", "CA"):
        for der, encoding, trust in ssl.enum_certificates(store):  # type: ignore[attr-defined,unused-ignore]
            # trust is True (all purposes) or a set of OIDs; keep roots usable for TLS servers
            if encoding == "x509_asn" and (trust is True or "1.3.6.1.5.5.7.3.1" in trust):
                ders.append(der)
    return AnchorSet.from_ders("device (Windows ROOT/CA)", ders) if ders else None


_READERS: dict[str, Callable[[], AnchorSet | None]] = {"Linux": _linux, "Darwin": _macos, "Windows": _windows}


def device() -> AnchorSet | None:
    """The OS trust store, or None when it cannot be read here (then the device signal is unknown)."""
    reader = _READERS.get(platform.system())
    if reader is None:
        return None
    try:
        return reader()
    except (OSError, subprocess.SubprocessError, DataError):
        return None

