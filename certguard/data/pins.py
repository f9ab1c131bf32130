"""Loading pinsets (``pinned_roots/pins.toml`` and the user's ``--pins`` files) into a ``PinDB``."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from pathlib import Path

from certguard.data import files as datafiles
from certguard.errors import DataError
from certguard.judge.pins import CARoots, PinDB, PinKey, PinSet

CONFIDENCES = ("high", "medium")


def _parse(loaded: datafiles.Loaded, known: dict[str, PinKey]) -> tuple[list[PinSet], dict[str, PinKey]]:
    src = loaded.source
    keys = dict(known)
    raw_keys = loaded.doc.get("keys", {})
    if not isinstance(raw_keys, dict):
        raise DataError(src, "'keys' must be a table of [keys.ID] tables", key="error.pins.table_of", name="keys")
    for key_id, table in raw_keys.items():
        if not isinstance(table, dict):
            raise DataError(src, f"keys.{key_id} must be a table", key="error.pins.table", where=f"keys.{key_id}")
        keys[key_id] = PinKey(
            key_id=key_id,
            name=datafiles.opt_str(table, "name", f"keys.{key_id}", src) or key_id,
            spki_sha256=datafiles.hex64(table.get("spki_sha256"), f"keys.{key_id}.spki_sha256", src),
            source=datafiles.opt_str(table, "source", f"keys.{key_id}", src) or src,
        )

    raw_cas = loaded.doc.get("cas", {})
    if not isinstance(raw_cas, dict):
        raise DataError(src, "'cas' must be a table of [cas.ID] tables", key="error.pins.table_of", name="cas")

    def resolve(refs: Iterable[str], where: str) -> tuple[PinKey, ...]:
        out = []
        for ref in refs:
            if ref in keys:
                out.append(keys[ref])
            else:
                # A raw hash is allowed so a user pin file can stay one table per site.
                out.append(PinKey(ref, ref[:16], datafiles.hex64(ref, f"{where}: unknown key or hash", src), src))
        return tuple(out)

    cas: dict[str, CARoots] = {}
    for ca_id, table in raw_cas.items():
        if not isinstance(table, dict):
            raise DataError(src, f"cas.{ca_id} must be a table", key="error.pins.table", where=f"cas.{ca_id}")
        where = f"cas.{ca_id}"
        cas[ca_id] = CARoots(ca_id, datafiles.opt_str(table, "name", where, src) or ca_id,
                             resolve(datafiles.str_list(table, "roots", where, src), where),
                             datafiles.opt_str(table, "source", where, src) or src)

    pinsets = []
    for i, t in enumerate(datafiles.tables(loaded.doc, "pinsets", src)):
        where = f"pinsets[{i}]"
        name = datafiles.opt_str(t, "name", where, src) or f"{src}#{i}"
        hosts = datafiles.str_list(t, "hosts", where, src)
        key_refs = datafiles.str_list(t, "keys", where, src)
        if not hosts or not key_refs:
            raise DataError(src, f"{where} ({name}): needs at least one host and one key",
                            key="error.pins.hosts_keys", where=f"{where} ({name})")
        sub = t.get("include_subdomains", False)
        if not isinstance(sub, bool):
            raise DataError(src, f"{where}: include_subdomains must be true or false", key="error.pins.subdomains",
                            where=where)
        pinsets.append(PinSet(
            name=name,
            hosts=tuple(h.lower() for h in hosts),
            include_subdomains=sub,
            keys=resolve(key_refs, where),
            bad_keys=resolve(datafiles.str_list(t, "bad_keys", where, src), where),
            confidence=_confidence(t, where, src),
            source=datafiles.opt_str(t, "source", where, src) or src,
            date=_date(t, where, src),
            cas=tuple(_ca(cas, ref, where, src) for ref in datafiles.str_list(t, "cas", where, src)),
        ))
    return pinsets, keys


def load(extra: Sequence[Path] = ()) -> PinDB:
    """The shipped pinsets plus user files (``--pins``). User pinsets are listed first.

    Raises:
        DataError: a file is unreadable or malformed.
    """
    builtin = datafiles.load_builtin("pins.toml")
    pinsets, keys = _parse(builtin, {})
    loaded = [builtin]
    user_sets: list[PinSet] = []
    for p in extra:
        doc = datafiles.load_path(p)
        more, keys = _parse(doc, keys)
        user_sets.extend(more)
        loaded.append(doc)
    return PinDB(tuple(user_sets + pinsets), tuple(keys.values()), datafiles.combined_sha256(loaded),
                 tuple(d.source for d in loaded))


def _confidence(t: dict[str, object], where: str, src: str) -> str:
    """"medium" unless said otherwise: only a pinset Chrome itself enforces earns an alarm on its own."""
    value = t.get("confidence", "medium")
    if value not in CONFIDENCES:
        raise DataError(src, f"{where}: confidence must be one of {', '.join(CONFIDENCES)}",
                        key="error.pins.confidence", where=where, choices=", ".join(CONFIDENCES))
    return str(value)


def _date(t: dict[str, object], where: str, src: str) -> str:
    """When the pinset was checked: a TOML date (``date = 2026-12-01``) or text, shown as written."""
    value = t.get("date", "")
    if not isinstance(value, str | datetime.date | datetime.time):  # datetime.datetime is a date
        raise DataError(src, f"{where}: date must be a date (2026-12-01) or a string", key="error.pins.date",
                        where=where)
    return value if isinstance(value, str) else value.isoformat()


def _ca(cas: dict[str, CARoots], ref: str, where: str, src: str) -> CARoots:
    if ref not in cas:
        raise DataError(src, f"{where}: unknown CA {ref!r} (define it as [cas.{ref}])", key="error.pins.unknown_ca",
                        where=where, ca=ref)
    return cas[ref]
