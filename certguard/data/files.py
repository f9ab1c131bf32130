"""Reading the TOML data files (shipped in ``certguard.pinned_roots`` or given by the user) with provenance, and
writing certguard's own files atomically."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from certguard.errors import DataError

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Loaded:
    """A parsed TOML document with the SHA-256 of its bytes (printed in every result as provenance)."""

    source: str
    sha256: str
    doc: dict[str, Any]


def _parse(source: str, raw: bytes) -> Loaded:
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(source, f"not valid TOML: {exc}") from exc
    return Loaded(source, hashlib.sha256(raw).hexdigest(), doc)


def load_builtin(name: str) -> Loaded:
    raw = resources.files("certguard.pinned_roots").joinpath(name).read_bytes()
    return _parse(f"pinned_roots/{name}", raw)


def load_path(path: Path) -> Loaded:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    return _parse(str(path), raw)


def combined_sha256(loaded: Sequence[Loaded]) -> str:
    """One provenance hash for the data actually used: the file's own SHA-256 when only the shipped file is in
    use (so it can be compared with `sha256sum`), else a hash over the files' hashes in order."""
    if len(loaded) == 1:
        return loaded[0].sha256
    return hashlib.sha256("".join(d.sha256 for d in loaded).encode()).hexdigest()


def hex64(value: object, where: str, source: str) -> str:
    """Validate a fingerprint: lowercase hex SHA-256 without colons (the one canonical form)."""
    if not isinstance(value, str) or not _HEX64.match(value):
        raise DataError(source, f"{where}: {value!r} is not a lowercase hex SHA-256 (64 characters, no colons)")
    return value


def str_list(table: dict[str, Any], key: str, where: str, source: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(source, f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def opt_str(table: dict[str, Any], key: str, where: str, source: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise DataError(source, f"{where}: '{key}' must be a string")
    return value


def tables(doc: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise DataError(source, f"'{key}' must be an array of tables ([[{key}]])")
    return value


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a part, even across a
    crash. A unique temporary name: concurrent writers (two API requests) cannot trip over each other."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
