"""Turning the user's words into ``Target``s: HOST[:PORT], site-list files, and curl's --connect-to/--resolve."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from certguard.data import files as datafiles
from certguard.errors import ConfigError, DataError
from certguard.judge.models import Target

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$", re.I)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return bool(_HOSTNAME.match(host)) or not host.isascii()


def _port(text: str, what: str) -> int:
    # ASCII digits only: str.isdigit() is also true for '²', which int() refuses (a ValueError, not a ConfigError).
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise ConfigError(f"{what}: {text!r} is not a port number (1-65535)", key="error.target.port", what=what,
                          value=repr(text))
    return int(text)


def _split_fields(spec: str, count: int, what: str) -> list[str]:
    """Split on ':' but keep [IPv6] literals whole (curl's syntax); brackets are removed."""
    fields, current, depth = [], "", 0
    for ch in spec:
        if ch == ":" and depth == 0:
            fields.append(current)
            current = ""
            continue
        depth += {"[": 1, "]": -1}.get(ch, 0)
        current += ch
    fields.append(current)
    if len(fields) != count or depth != 0:
        raise ConfigError(f"{what} {spec!r}: expected {count} fields separated by ':'", key="error.target.fields",
                          what=what, spec=repr(spec), count=count)
    return [f[1:-1] if f.startswith("[") and f.endswith("]") else f for f in fields]


def parse_target(text: str, sensitive: bool = False) -> Target:
    """``host``, ``host:port``, ``[v6]:port``, or an https:// URL's host part."""
    text = text.strip()
    if text.startswith("https://"):
        text = text[len("https://"):].split("/", 1)[0]
    host, port = text, 443
    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            raise ConfigError(f"{text!r}: unclosed '['", key="error.target.bracket", value=repr(text))
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"{text!r}: expected ':PORT' after ']'", key="error.target.after_bracket",
                                  value=repr(text))
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, p = text.split(":")
        port = _port(p, text)
    host = host.lower().rstrip(".")
    if not host or not _valid_host(host):
        raise ConfigError(f"{text!r} is not a host name or address", key="error.target.host", value=repr(text))
    return Target(host=host, port=port, sensitive=sensitive)


@dataclass(frozen=True)
class ConnectTo:
    """curl --connect-to HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT (empty HOST/PORT match any; empty target
    parts keep the original)."""

    host: str
    port: int | None
    to_host: str
    to_port: int | None

    @classmethod
    def parse(cls, spec: str) -> ConnectTo:
        h, p, th, tp = _split_fields(spec, 4, "--connect-to")
        return cls(h.lower(), _port(p, "--connect-to") if p else None, th,
                   _port(tp, "--connect-to") if tp else None)

    def applies(self, t: Target) -> bool:
        return (not self.host or self.host == t.host) and (self.port is None or self.port == t.port)


@dataclass(frozen=True)
class Resolve:
    """curl --resolve HOST:PORT:ADDR ('*' as HOST matches any host)."""

    host: str
    port: int
    address: str

    @classmethod
    def parse(cls, spec: str) -> Resolve:
        h, p, a = _split_fields(spec, 3, "--resolve")
        try:
            ipaddress.ip_address(a)
        except ValueError as exc:
            raise ConfigError(f"--resolve {spec!r}: {a!r} is not an IP address", key="error.target.address",
                              spec=repr(spec), address=repr(a)) from exc
        return cls(h.lower(), _port(p, "--resolve"), a)

    def applies(self, t: Target) -> bool:
        return self.host in ("*", t.host) and self.port == t.port


def apply_overrides(targets: Sequence[Target], connect_to: Sequence[ConnectTo],
                    resolve: Sequence[Resolve]) -> list[Target]:
    """--connect-to wins over --resolve (as in curl: it changes where to connect, then that name is resolved)."""
    out = []
    for t in targets:
        ct = next((c for c in connect_to if c.applies(t)), None)
        if ct is not None:
            t = replace(t, address=ct.to_host or None, address_port=ct.to_port)
        r = next((r for r in resolve if r.host in ("*", t.address or t.host) and r.port == (t.address_port or t.port)),
                 None)
        if r is not None:
            t = replace(t, address=r.address)
        out.append(t)
    return out


# A site list is a list of sites to probe, one by one: 10,000 is already hours of probing. Far above that is a
# wrong file (a 1,000,000-line list took 266 s and 8.3 GB before failing).
MAX_SITES = 10_000


def _too_many(source: str) -> DataError:
    return DataError(source, f"lists more than {MAX_SITES} sites", key="error.sites.too_many", count=MAX_SITES)


def load_site_list(path: Path | None = None) -> list[Target]:
    """The shipped site list, or a user file: TOML ([[site]] host/port/sensitive) or one HOST[:PORT] per line
    with '#' comments.

    Raises:
        DataError: unreadable, larger than ``files.MAX_DATA_BYTES``, malformed, empty, or more than ``MAX_SITES``
            sites. The message names the file, and the line (plain text) or the entry (TOML).
    """
    if path is None:
        return _from_toml(datafiles.load_builtin("sites.toml"))
    raw = datafiles.read_bounded(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(str(path), f"cannot read: not UTF-8 text ({exc})", key="error.file.not_utf8") from exc
    if path.suffix == ".toml" or "[[site]]" in text:
        return _from_toml(datafiles.parse(str(path), raw))
    targets: list[Target] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if len(targets) == MAX_SITES:
            raise _too_many(f"{path}:{n}")
        try:
            targets.append(parse_target(line))
        except ConfigError as exc:
            raise DataError(f"{path}:{n}", str(exc), key=exc.key, **exc.params) from exc
    if not targets:
        raise DataError(str(path), "lists no sites", key="error.sites.empty")
    return targets


def _from_toml(loaded: datafiles.Loaded) -> list[Target]:
    src = loaded.source
    sites = datafiles.tables(loaded.doc, "site", src)
    if len(sites) > MAX_SITES:
        raise _too_many(src)
    out = []
    for i, t in enumerate(sites):
        host = t.get("host")
        port = t.get("port")
        sensitive = t.get("sensitive", False)
        # bool is an int in Python: 'port = true' must not pass as port 1.
        if (not isinstance(host, str) or not isinstance(sensitive, bool)
                or (port is not None and (not isinstance(port, int) or isinstance(port, bool)))):
            raise DataError(src, f"site[{i}]: needs host (string), port (integer), sensitive (bool)",
                            key="error.sites.entry", index=i)
        where = f"site[{i}] ({datafiles.short_repr(host)})"
        try:
            target = parse_target(host, sensitive)
        except ConfigError as exc:
            raise DataError(src, f"{where}: {exc}", key=exc.key, at=where, **exc.params) from exc
        if port is None:  # no 'port': the one in 'host' ("[::1]:8443"), else 443 (as on the command line)
            port = target.port
        # Compared as a number: str() of a TOML integer such as 0xfff… (4700 digits) raises a ValueError.
        if not 0 < port < 65536:
            shown = port if abs(port) < 10**9 else "(huge)"
            raise DataError(src, f"{where}: port {shown} is not a port number (1-65535)",
                            key="error.sites.port", at=where, port=shown)
        out.append(replace(target, port=port))
    if not out:
        raise DataError(src, "lists no sites", key="error.sites.empty")
    return out
