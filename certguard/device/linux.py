"""Linux: the distribution's CA bundle(s), the anchor folders administrators drop roots into, and p11-kit."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from certguard.device import places
from certguard.device.files import Runner, _certs_from_bytes, _run, read_file, read_folder
from certguard.judge import certs
from certguard.judge.storescan import TRUSTED, StoreScan

LINUX_BUNDLES = (
    "etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch
    "etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL 7+
    "etc/ssl/ca-bundle.pem",  # openSUSE
    "etc/ssl/cert.pem",  # Alpine
)
# Where administrators drop extra roots before running update-ca-certificates / update-ca-trust. Interception
# roots installed by hand or by a "security certificate" installer land here.
LINUX_ANCHOR_DIRS = (
    "usr/local/share/ca-certificates",  # Debian, Ubuntu
    "etc/pki/ca-trust/source/anchors",  # Fedora, RHEL
    "usr/share/pki/ca-trust-source/anchors",
    "etc/ca-certificates/trust-source/anchors",  # Arch (p11-kit)
    "usr/share/pki/trust/anchors",  # openSUSE
    "etc/pki/trust/anchors",
)


# The distribution's own copies of Mozilla's roots (Debian's ca-certificates package): a root found here but no
# longer in certifi was removed from Mozilla's program since the package was built, not installed by someone.
LINUX_DISTRIBUTION_DIRS = ("usr/share/ca-certificates/mozilla", "usr/share/pki/ca-trust-source")


def _distribution_hashes(root: Path) -> set[str]:
    hashes: set[str] = set()
    for rel in LINUX_DISTRIBUTION_DIRS:
        folder = root / rel
        if folder.is_dir():
            hashes |= {certs.sha256_hex(e.der) for e in read_folder(folder, "linux").entries}
    return hashes


def read_linux(root: Path = Path("/"), run: Runner = _run) -> StoreScan:
    """The distribution bundle(s), the anchor folders, and p11-kit's view when ``trust`` exists (real root only)."""
    scan = _read_linux_stores(root, run)
    shipped = _distribution_hashes(root)
    scan.entries = [dataclasses.replace(e, distribution=certs.sha256_hex(e.der) in shipped) for e in scan.entries]
    return scan


def _read_linux_stores(root: Path, run: Runner) -> StoreScan:
    scan = StoreScan()
    for rel in LINUX_BUNDLES:
        p = root / rel
        if p.is_file():
            scan.extend(read_file(p, "linux"))
    for rel in LINUX_ANCHOR_DIRS:
        p = root / rel
        if p.is_dir():
            scan.extend(read_folder(p, "linux"))
    if root == Path("/") and shutil.which("trust"):
        proc = run(["trust", "extract", "--format=pem-bundle", "--filter=ca-anchors", "--purpose=server-auth",
                    "/dev/stdout"])
        if proc.returncode == 0:
            scan.scanned.append(("linux", places.P11KIT))
            _certs_from_bytes(proc.stdout, "linux", places.P11KIT_ANCHORS, TRUSTED, scan)
    return scan
