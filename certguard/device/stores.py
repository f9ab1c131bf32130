"""Readers of the trust stores on a device, for ``certguard audit``.

Every reader has one signature: it returns a ``StoreScan`` with each certificate it found, where it lives and
whether that store trusts it for TLS servers, plus the problems it met (a garbage file, a locked database). A
problem is reported, never raised: an audit must list what it could read even when one store is broken.

Readers only read files and run local commands (``certutil``, ``security``, ``trust``); never the network.
Platform-specific commands are injectable (``run``), so their parsers are tested against recorded output.
"""

from __future__ import annotations

import configparser
import dataclasses
import plistlib
import re
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certguard.errors import DataError
from certguard.judge import certs

# What a store says about a certificate, for TLS servers. Only TRUSTED makes it an anchor.
TRUSTED, UNTRUSTED, DISTRUSTED = "trusted", "untrusted", "distrusted"
# Every ``store`` a reader reports; each has removal advice in the catalogs (``audit.remove.<store>``).
STORES = ("linux", "nss", "nss-firefox", "nss-chromium", "macos", "windows", "file")

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[bytes]"]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(argv), capture_output=True, timeout=60, check=False)  # noqa: S603


@dataclass(frozen=True)
class Installed:
    der: bytes
    store: str  # kind of store: linux, nss-firefox, nss-chromium, nss, macos, windows, file
    location: str  # a path, a profile, a keychain, a Windows store name
    trust: str  # TRUSTED / UNTRUSTED / DISTRUSTED
    detail: str = ""  # the store's own words (NSS flags "CT,C,C", macOS result, Windows purposes)
    distribution: bool = False  # shipped by the OS vendor's copy of Mozilla's list, not installed by someone


@dataclass(frozen=True)
class Problem:
    store: str
    location: str
    message: str


@dataclass
class StoreScan:
    entries: list[Installed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    scanned: list[tuple[str, str]] = field(default_factory=list)  # (store, location) actually read
    notes: list[Problem] = field(default_factory=list)  # facts worth telling (Firefox trusts the OS store)

    def extend(self, other: StoreScan) -> StoreScan:
        self.entries += other.entries
        self.problems += other.problems
        self.scanned += other.scanned
        self.notes += other.notes
        return self


def _certs_from_bytes(data: bytes, store: str, location: str, trust: str, scan: StoreScan) -> None:
    """Add every certificate of a PEM bundle or DER file; a bad one is a problem, the good ones still count."""
    try:
        ders = certs.split_pem_or_der(data, location)
    except DataError as exc:
        scan.problems.append(Problem(store, location, exc.message))
        return
    for i, der in enumerate(ders):
        try:
            certs.parse(der)
        except ValueError as exc:
            scan.problems.append(Problem(store, f"{location} #{i + 1}", f"not a readable certificate ({exc})"))
            continue
        scan.entries.append(Installed(der, store, location, trust))


def read_file(path: Path, store: str = "file", trust: str = TRUSTED) -> StoreScan:
    scan = StoreScan()
    try:
        data = path.read_bytes()
    except OSError as exc:
        scan.problems.append(Problem(store, str(path), f"cannot read: {exc.strerror or exc}"))
        return scan
    scan.scanned.append((store, str(path)))
    _certs_from_bytes(data, store, str(path), trust, scan)
    return scan


_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


def read_folder(folder: Path, store: str = "file", trust: str = TRUSTED) -> StoreScan:
    """Every certificate file directly in ``folder`` (as OpenSSL's hashed directories and anchor folders)."""
    scan = StoreScan()
    try:
        names = sorted(p for p in folder.iterdir() if p.suffix.lower() in _CERT_SUFFIXES or re.fullmatch(
            r"[0-9a-f]{8}\.\d+", p.name))
    except OSError as exc:
        scan.problems.append(Problem(store, str(folder), f"cannot list: {exc.strerror or exc}"))
        return scan
    scan.scanned.append((store, str(folder)))
    for p in names:
        one = read_file(p, store, trust)
        scan.entries += one.entries
        scan.problems += one.problems
    return scan


# ---- Linux --------------------------------------------------------------------------------------------

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
            scan.scanned.append(("linux", "p11-kit trust"))
            _certs_from_bytes(proc.stdout, "linux", "p11-kit trust (ca-anchors)", TRUSTED, scan)
    return scan


# ---- NSS (Firefox, Chrome/Chromium on Linux) ------------------------------------------------------------

_NSS_LINE = re.compile(r"^(?P<nick>.+?)\s+(?P<trust>[A-Za-z]*,[A-Za-z]*,[A-Za-z]*)\s*$")


def nss_trust(flags: str) -> str:
    """certutil's SSL trust field: ``C`` = trusted CA for servers, ``P`` = trusted peer; ``p`` alone (valid peer,
    not trusted) is how a distrust entry is written; anything else gives no TLS trust."""
    ssl = flags.split(",", 1)[0]
    if "C" in ssl or "P" in ssl:
        return TRUSTED
    if "p" in ssl and "c" not in ssl:
        return DISTRUSTED
    return UNTRUSTED


def parse_certutil_list(output: str) -> list[tuple[str, str]]:
    """``certutil -L`` → [(nickname, "SSL,S/MIME,JAR")]."""
    rows = []
    for line in output.splitlines():
        if not line.strip() or line.startswith("Certificate Nickname") or line.strip() == "SSL,S/MIME,JAR/XPI":
            continue
        m = _NSS_LINE.match(line)
        if m:
            rows.append((m["nick"].strip(), m["trust"]))
    return rows


def read_nss(db: Path, store: str = "nss", label: str | None = None, run: Runner = _run) -> StoreScan:
    """An NSS database (``cert9.db``, or the legacy ``cert8.db``) read with Debian's ``certutil``."""
    scan = StoreScan()
    location = label or str(db)
    if not shutil.which("certutil") and run is _run:
        scan.problems.append(Problem(store, location, "certutil not found (install libnss3-tools) - not read"))
        return scan
    prefix = "sql:" if (db / "cert9.db").exists() else "dbm:"
    listing = run(["certutil", "-L", "-d", f"{prefix}{db}"])
    if listing.returncode != 0:
        msg = (listing.stderr or listing.stdout).decode("utf-8", "replace").strip().splitlines()
        scan.problems.append(Problem(store, location, "certutil cannot read it: " + (msg[-1] if msg else "failed")))
        return scan
    scan.scanned.append((store, location))
    for nick, flags in parse_certutil_list(listing.stdout.decode("utf-8", "replace")):
        pem = run(["certutil", "-L", "-d", f"{prefix}{db}", "-n", nick, "-a"])
        where = f"{location}: {nick}"
        if pem.returncode != 0:
            scan.problems.append(Problem(store, where, "certutil cannot export this entry"))
            continue
        before = len(scan.entries)
        _certs_from_bytes(pem.stdout, store, where, nss_trust(flags), scan)
        scan.entries[before:] = [Installed(e.der, e.store, e.location, e.trust, flags) for e in scan.entries[before:]]
    return scan


FIREFOX_BASES = (".mozilla/firefox", ".mozilla/firefox-esr", "snap/firefox/common/.mozilla/firefox",
                 ".var/app/org.mozilla.firefox/.mozilla/firefox", "Library/Application Support/Firefox")


def _profiles_in(base: Path) -> list[tuple[str, Path]]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(base / "profiles.ini", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return []
    found = []
    for section in parser.sections():
        if section.startswith("Profile") and "Path" in parser[section]:
            relative = parser[section].get("IsRelative", "1") == "1"
            path = base / parser[section]["Path"] if relative else Path(parser[section]["Path"])
            found.append((parser[section].get("Name", path.name), path))
    return found


def firefox_profile_dirs(home: Path) -> list[tuple[str, Path]]:
    """Profiles listed in profiles.ini for the deb/tarball, ESR, snap, flatpak and macOS Firefox."""
    return [prof for rel in FIREFOX_BASES if (home / rel / "profiles.ini").is_file()
            for prof in _profiles_in(home / rel)]


_ENTERPRISE_ROOTS = re.compile(r'user_pref\("security\.enterprise_roots\.enabled",\s*true\)')


def read_firefox(home: Path, run: Runner = _run) -> StoreScan:
    scan = StoreScan()
    for name, profile in firefox_profile_dirs(home):
        label = f"Firefox profile {name} ({profile})"
        if (profile / "cert9.db").exists() or (profile / "cert8.db").exists():
            scan.extend(read_nss(profile, "nss-firefox", label, run))
        for prefs in ("prefs.js", "user.js"):
            try:
                text = (profile / prefs).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if _ENTERPRISE_ROOTS.search(text):
                scan.notes.append(Problem("nss-firefox", label, "security.enterprise_roots.enabled is true: "
                                          "this Firefox also trusts every root of the operating system's store"))
    return scan


def read_chromium_nss(home: Path, run: Runner = _run) -> StoreScan:
    db = home / ".pki/nssdb"
    if (db / "cert9.db").exists() or (db / "cert8.db").exists():
        return read_nss(db, "nss-chromium", f"Chrome/Chromium NSS database ({db})", run)
    return StoreScan()


# ---- macOS ----------------------------------------------------------------------------------------------

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
        for flag, label in (("-d", "admin trust settings"), ("", "user trust settings")):
            export = Path(tmp) / f"{label.split()[0]}.plist"
            proc = run(["security", "trust-settings-export", *([flag] if flag else []), str(export)])
            if proc.returncode != 0 or not export.is_file():
                continue  # "no trust settings" is the common case, not a problem
            try:
                settings.update(parse_trust_settings(export.read_bytes()))
                scan.scanned.append(("macos", label))
            except DataError as exc:
                scan.problems.append(Problem("macos", label, exc.message))
    for keychain in (MACOS_SYSTEM_ROOTS, MACOS_SYSTEM, str(home / "Library/Keychains/login.keychain-db")):
        proc = run(["security", "find-certificate", "-a", "-p", keychain])
        if proc.returncode != 0:
            if keychain != MACOS_SYSTEM_ROOTS and "login" in keychain:
                continue  # no login keychain (a service account): nothing to report
            scan.problems.append(Problem("macos", keychain, "security find-certificate failed"))
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


# ---- Windows --------------------------------------------------------------------------------------------

_SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
EnumCerts = Callable[[str], Iterable[tuple[bytes, str, Any]]]


def read_windows(enum: EnumCerts | None = None) -> StoreScan:
    """ROOT and CA via ``ssl.enum_certificates`` (CryptoAPI's merged view of the machine and user stores)."""
    if enum is None:
        enum = ssl.enum_certificates  # type: ignore[attr-defined,unused-ignore]
    scan = StoreScan()
    for store in ("ROOT", "CA"):
        location = f"Windows {store} store (machine and user)"
        try:
            rows = list(enum(store))
        except OSError as exc:
            scan.problems.append(Problem("windows", location, f"cannot enumerate: {exc}"))
            continue
        scan.scanned.append(("windows", location))
        for der, encoding, purposes in rows:
            if encoding != "x509_asn":
                continue
            # purposes: True (all) or a set of EKU OIDs the store allows this certificate for
            ok = purposes is True or _SERVER_AUTH in purposes
            is_root = store == "ROOT"
            trust = TRUSTED if ok and is_root else UNTRUSTED
            detail = "all purposes" if purposes is True else ", ".join(sorted(purposes))
            try:
                certs.parse(der)
            except ValueError as exc:
                scan.problems.append(Problem("windows", location, f"not a readable certificate ({exc})"))
                continue
            scan.entries.append(Installed(der, "windows", location, trust,
                                          detail if is_root else f"intermediate store; {detail}"))
    return scan


# ---- explicit paths and the platform dispatch --------------------------------------------------------------

def read_path(path: Path, run: Runner = _run) -> StoreScan:
    """``audit --store PATH``: an NSS database folder, a folder of PEM/DER files, or one bundle file."""
    if path.is_dir():
        if (path / "cert9.db").exists() or (path / "cert8.db").exists():
            return read_nss(path, "nss", None, run)
        return read_folder(path, "file")
    return read_file(path, "file")


def read_device(system: str, home: Path, *, run: Runner = _run, linux_root: Path = Path("/"),
                enum: EnumCerts | None = None) -> StoreScan:
    """Every store of this kind of system that certguard knows how to read."""
    if system == "Linux":
        return read_linux(linux_root, run).extend(read_firefox(home, run)).extend(read_chromium_nss(home, run))
    if system == "Darwin":
        return read_macos(home, run).extend(read_firefox(home, run))
    if system == "Windows":
        return read_windows(enum)
    scan = StoreScan()
    scan.problems.append(Problem(system, "-", f"no trust-store reader for {system!r}"))
    return scan
