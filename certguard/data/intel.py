"""Loading the known-interceptor list (``pinned_roots/interceptors.toml`` and ``--intel`` files) into an IntelDB."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from certguard.data import files as datafiles
from certguard.errors import DataError
from certguard.judge.intel import IntelDB, Interceptor, IssuerPattern
from certguard.judge.models import InterceptorKind


def _pattern(raw: Any, where: str, src: str) -> IssuerPattern:
    if not isinstance(raw, dict) or not raw or set(raw) - {"cn", "o", "c"}:
        raise DataError(src, f"{where}: an issuer pattern is a table with some of 'cn', 'o', 'c'")

    def rx(key: str) -> re.Pattern[str] | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise DataError(src, f"{where}.{key} must be a string")
        try:
            return re.compile(value, re.IGNORECASE)
        except (re.error, OverflowError, RecursionError) as exc:
            # re's parser recurses per group ("(" * 1000 exhausts the stack) and refuses a{99999999999} with an
            # OverflowError: both are a bad pattern in the file, not a crash.
            raise DataError(src, f"{where}.{key}: bad regular expression ({type(exc).__name__}: {exc})") from exc

    c = raw.get("c")
    if c is not None and not isinstance(c, str):
        raise DataError(src, f"{where}.c must be a string")
    return IssuerPattern(rx("cn"), rx("o"), c)


# "unknown" is certguard's own label for an interceptor no entry names (an untrusted issuer that forges the host's
# name): an entry that names it cannot be of unknown kind, and would read like certguard's own guess.
DATA_KINDS = tuple(k for k in InterceptorKind if k is not InterceptorKind.UNKNOWN)


def _kind(value: object, where: str, src: str) -> InterceptorKind:
    kind = next((k for k in DATA_KINDS if k.value == value), None) if isinstance(value, str) else None
    if kind is None:
        kinds = ", ".join(k.value for k in DATA_KINDS)
        raise DataError(src, f"{where}: kind must be one of {kinds} (got {datafiles.short_repr(value)})",
                        key="error.intel.kind", where=where, kinds=kinds, value=datafiles.short_repr(value))
    return kind


def _parse(loaded: datafiles.Loaded) -> list[Interceptor]:
    src = loaded.source
    out = []
    for i, t in enumerate(datafiles.tables(loaded.doc, "interceptor", src)):
        where = f"interceptor[{i}]"
        entry_id = datafiles.opt_str(t, "id", where, src)
        name = datafiles.opt_str(t, "name", where, src)
        if not entry_id or not name:
            raise DataError(src, f"{where}: 'id' and 'name' are required", key="error.intel.id_name", where=where)
        where = f"interceptor {entry_id}"
        kind = _kind(t.get("kind"), where, src)
        spkis = frozenset(datafiles.hex64(v, f"{where}.spki_sha256", src)
                          for v in datafiles.str_list(t, "spki_sha256", where, src))
        fps = frozenset(datafiles.hex64(v, f"{where}.sha256", src) for v in datafiles.str_list(t, "sha256", where, src))
        raw_patterns = t.get("issuer_patterns", [])
        if not isinstance(raw_patterns, list):
            raise DataError(src, f"{where}: issuer_patterns must be a list")
        patterns = tuple(_pattern(p, f"{where}.issuer_patterns[{j}]", src) for j, p in enumerate(raw_patterns))
        if not (spkis or fps or patterns):
            raise DataError(src, f"{where}: needs spki_sha256, sha256 or issuer_patterns", key="error.intel.match",
                            where=where)
        out.append(Interceptor(
            entry_id=entry_id, name=name, kind=kind,
            country=datafiles.opt_str(t, "country", where, src),
            years=datafiles.opt_str(t, "years", where, src),
            spki_sha256=spkis, sha256=fps, issuer_patterns=patterns,
            legitimate_domains=datafiles.str_list(t, "legitimate_domains", where, src),
            references=datafiles.str_list(t, "references", where, src),
        ))
    return out


def load(extra: Sequence[Path] = ()) -> IntelDB:
    """The shipped interceptor list plus user files (``--intel``, same format).

    Raises:
        DataError: a file is unreadable or malformed, or two entries share an id.
    """
    loaded = [datafiles.load_builtin("interceptors.toml"), *(datafiles.load_path(p) for p in extra)]
    entries: list[Interceptor] = []
    seen: dict[str, str] = {}
    for doc in loaded:
        for e in _parse(doc):
            if e.entry_id in seen:
                raise DataError(doc.source, f"interceptor id {e.entry_id!r} is already defined in {seen[e.entry_id]}")
            seen[e.entry_id] = doc.source
            entries.append(e)
    return IntelDB(tuple(entries), datafiles.combined_sha256(loaded), tuple(d.source for d in loaded))
