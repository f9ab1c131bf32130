"""NSS databases (Firefox profiles, Chrome/Chromium's ``~/.pki/nssdb`` on Linux), read with Debian's ``certutil``.

Trust is attributed per *certificate*, not per nickname. ``certutil -L -d DB -n NICK`` looks the nickname up,
then prints every certificate with that certificate's *subject* (NSS keeps certificates in subject lists), so
two roots sharing one subject (Kazakhstan's "ISCA" roots) both come out of either nickname. Trusting every
certificate a nickname prints with that nickname's flags made an untrusted twin look trusted.

How it is done, and why with certutil rather than by reading cert9.db's SQLite tables ourselves:
- ``certutil -L -d DB`` lists one row per certificate: (nickname, "SSL,S/MIME,JAR" flags).
- for each nickname, ``certutil -L -d DB -n NICK`` (text) prints each certificate of the subject as its own
  ``Certificate:`` section with ``Fingerprint (SHA-256):`` (``SHA1`` too) and its *own* ``Certificate Trust
  Flags:`` block (words from NSS ``cmd/lib/secutil.c`` printFlags), and ``-a`` prints the same certificates as
  PEM. The PEMs are joined to their sections by SHA-256 fingerprint and each gets the flags of its section,
  rewritten as the letters ``certutil -L`` uses (NSS ``lib/certdb/certdb.c`` EncodeFlags).
- the listing's rows then only say which nickname a certificate is shown under: each row claims one certificate
  of its subject with the same flags.
cert9.db's tables are an NSS-internal schema (columns named by hex PKCS#11 attribute ids, values in NSS's own
encoding, trust objects joined to certificates by issuer and serial by hand), and the legacy cert8.db is Berkeley
DB: certutil is NSS reading its own database with its own rules, for both formats.
"""

from __future__ import annotations

import configparser
import itertools
import re
import shutil
from pathlib import Path

from certguard.device import places
from certguard.device.files import Runner, _certs_from_bytes, _run
from certguard.judge import certs
from certguard.judge.storescan import DISTRUSTED, TRUSTED, UNTRUSTED, Installed, Problem, StoreScan

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


_SECTION = re.compile(r"^Certificate:[ \t]*$", re.MULTILINE)
_FINGERPRINT = re.compile(r"Fingerprint \((?:SHA-256|SHA1)\):\s*\n\s*(?P<hex>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)")
_CATEGORIES = ("SSL Flags:", "Email Flags:", "Object Signing Flags:")


def _letters(words: set[str]) -> str:
    """The words of one category of a trust block → certutil's letters, in EncodeFlags' order. NSS 3.87 prints
    "Terminal Record" for what older releases called "Valid Peer"; both are ``p``."""
    peer = bool(words & {"Valid Peer", "Terminal Record"})
    out = ""
    out += "c" if "Valid CA" in words and not words & {"Trusted CA", "Trusted Client CA"} else ""
    out += "p" if peer and "Trusted" not in words else ""
    out += "C" if "Trusted CA" in words else ""
    out += "T" if "Trusted Client CA" in words else ""
    out += "P" if "Trusted" in words else ""
    out += "u" if "User" in words else ""
    out += "w" if "Warn When Sending" in words else ""
    out += "G" if "Step-up" in words else ""
    return out


def _trust_block(section: str) -> str | None:
    """The ``Certificate Trust Flags:`` block of one section → "SSL,S/MIME,JAR"; None without a block (then the
    caller falls back on the listing, or reports it: a missing block never silently means "untrusted")."""
    lines = section.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "Certificate Trust Flags:"), None)
    if start is None:
        return None
    indent = len(lines[start]) - len(lines[start].lstrip())
    words: dict[str, set[str]] = {c: set() for c in _CATEGORIES}
    current: str | None = None
    for line in lines[start + 1:]:
        if not line.strip() or len(line) - len(line.lstrip()) <= indent:
            break
        if line.strip() in words:
            current = line.strip()
        elif current is not None:
            words[current].add(line.strip())
    return ",".join(_letters(words[c]) for c in _CATEGORIES)


def parse_certutil_details(output: str) -> dict[str, str]:
    """``certutil -L -n NICK`` (text) → {fingerprint: "SSL,S/MIME,JAR"} for every certificate it printed, keyed by
    both its SHA-256 and SHA-1 (lowercase hex, no colons; older certutil prints only SHA-1)."""
    found: dict[str, str] = {}
    starts = [m.start() for m in _SECTION.finditer(output)]
    for start, end in itertools.pairwise([*starts, len(output)]):
        section = output[start:end]
        flags = _trust_block(section)
        if flags is None:
            continue
        for m in _FINGERPRINT.finditer(section):
            found[m["hex"].replace(":", "").lower()] = flags
    return found


def _nickname_certs(db: str, nick: str, store: str, where: str, run: Runner,
                    scan: StoreScan) -> list[tuple[bytes, str | None]] | None:
    """Every certificate ``-n NICK`` gives, with its own flags (None when certutil printed none for it)."""
    pem = run(["certutil", "-L", "-d", db, "-n", nick, "-a"])
    if pem.returncode != 0:
        scan.problems.append(Problem(store, where, "certutil cannot export this entry", "problem.certutil_export"))
        return None
    text = run(["certutil", "-L", "-d", db, "-n", nick])
    flags = parse_certutil_details(text.stdout.decode("utf-8", "replace")) if text.returncode == 0 else {}
    found = StoreScan()
    _certs_from_bytes(pem.stdout, store, where, UNTRUSTED, found)
    scan.problems += found.problems
    out: list[tuple[bytes, str | None]] = []
    for e in found.entries:
        own = flags.get(certs.sha256_hex(e.der)) or flags.get(certs.sha1_hex(e.der))
        out.append((e.der, own))
    return out


def read_nss(db: Path, store: str = "nss", label: str | None = None, run: Runner = _run) -> StoreScan:
    """An NSS database (``cert9.db``, or the legacy ``cert8.db``) read with Debian's ``certutil``: one entry per
    certificate, with that certificate's own trust flags (see the module docstring)."""
    scan = StoreScan()
    location = label or str(db)
    if not shutil.which("certutil") and run is _run:
        scan.problems.append(Problem(store, location, "certutil not found (install libnss3-tools) - not read",
                                     "problem.certutil_missing"))
        return scan
    prefix = "sql:" if (db / "cert9.db").exists() else "dbm:"
    listing = run(["certutil", "-L", "-d", f"{prefix}{db}"])
    if listing.returncode != 0:
        msg = (listing.stderr or listing.stdout).decode("utf-8", "replace").strip().splitlines()
        detail = msg[-1] if msg else "failed"
        scan.problems.append(Problem(store, location, "certutil cannot read it: " + detail,
                                     "problem.certutil_unreadable", (("detail", detail),)))
        return scan
    scan.scanned.append((store, location))
    rows = parse_certutil_list(listing.stdout.decode("utf-8", "replace"))
    by_nick: dict[str, list[tuple[bytes, str | None]]] = {}
    first_nick: dict[bytes, str] = {}  # every certificate seen → the first nickname that printed it
    claimed: set[bytes] = set()

    def add(der: bytes, nick: str, own: str | None, row_flags: str | None) -> None:
        where = places.nickname(location, nick)
        if own is None and row_flags is not None and len(by_nick[nick]) == 1:
            own = row_flags  # the nickname names exactly this certificate: its listing row is about it alone
        if own is None:
            sha = certs.sha256_hex(der)
            scan.problems.append(Problem(store, where, f"certutil printed no trust flags for certificate {sha}: "
                                         "not counted as trusted", "problem.no_trust_flags", (("sha256", sha),)))
        scan.entries.append(Installed(der, store, where, nss_trust(own or ""), own or ""))
        claimed.add(der)

    for nick, row_flags in rows:
        if nick not in by_nick:
            got = _nickname_certs(f"{prefix}{db}", nick, store, places.nickname(location, nick), run, scan)
            by_nick[nick] = got or []
            for der, _ in by_nick[nick]:
                first_nick.setdefault(der, nick)
        free = [(der, own) for der, own in by_nick[nick] if der not in claimed]
        pick = next((c for c in free if c[1] == row_flags), free[0] if free else None)
        if pick is not None:
            add(pick[0], nick, pick[1], row_flags)
    # A certificate no row claimed (its flags matched no row of its subject): still listed, with its own flags.
    for nick, got in by_nick.items():
        for der, own in got:
            if der not in claimed and first_nick[der] == nick:
                add(der, nick, own, None)
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
        label = places.FIREFOX_PROFILE.format(name=name, path=profile)
        if (profile / "cert9.db").exists() or (profile / "cert8.db").exists():
            scan.extend(read_nss(profile, "nss-firefox", label, run))
        for prefs in ("prefs.js", "user.js"):
            try:
                text = (profile / prefs).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if _ENTERPRISE_ROOTS.search(text):
                scan.notes.append(Problem("nss-firefox", label, "security.enterprise_roots.enabled is true: "
                                          "this Firefox also trusts every root of the operating system's store",
                                          "problem.enterprise_roots"))
    return scan


def read_chromium_nss(home: Path, run: Runner = _run) -> StoreScan:
    db = home / ".pki/nssdb"
    if (db / "cert9.db").exists() or (db / "cert8.db").exists():
        return read_nss(db, "nss-chromium", places.CHROMIUM_NSS.format(path=db), run)
    return StoreScan()
