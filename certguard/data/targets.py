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
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"{what}: {text!r} is not a port number (1-65535)")
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
        raise ConfigError(f"{what} {spec!r}: expected {count} fields separated by ':'")
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
            raise ConfigError(f"{text!r}: unclosed '['")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"{text!r}: expected ':PORT' after ']'")
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, p = text.split(":")
        port = _port(p, text)
    host = host.lower().rstrip(".")
    if not host or not _valid_host(host):
        raise ConfigError(f"{text!r} is not a host name or address")
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
            raise ConfigError(f"--resolve {spec!r}: {a!r} is not an IP address") from exc
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


def load_site_list(path: Path | None = None) -> list[Target]:
    """The shipped site list, or a user file: TOML ([[site]] host/port/sensitive) or one HOST[:PORT] per line
    with '#' comments.

    Raises:
        DataError: unreadable or malformed file.
    """
    if path is None:
        return _from_toml(datafiles.load_builtin("sites.toml"))
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(str(path), f"cannot read: {exc}") from exc
    if path.suffix == ".toml" or "[[site]]" in text:
        return _from_toml(datafiles.load_path(path))
    targets = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            targets.append(parse_target(line))
        except ConfigError as exc:
            raise DataError(f"{path}:{n}", str(exc)) from exc
    if not targets:
        raise DataError(str(path), "lists no sites")
    return targets


def _from_toml(loaded: datafiles.Loaded) -> list[Target]:
    out = []
    for i, t in enumerate(datafiles.tables(loaded.doc, "site", loaded.source)):
        host = t.get("host")
        port = t.get("port", 443)
        sensitive = t.get("sensitive", False)
        if not isinstance(host, str) or not isinstance(port, int) or not isinstance(sensitive, bool):
            raise DataError(loaded.source, f"site[{i}]: needs host (string), port (integer), sensitive (bool)")
        try:
            target = parse_target(host, sensitive)
        except ConfigError as exc:
            raise DataError(loaded.source, f"site[{i}]: {exc}") from exc
        out.append(replace(target, port=_port(str(port), f"site[{i}]")))
    if not out:
        raise DataError(loaded.source, "lists no sites")
    return out
