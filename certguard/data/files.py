"""Reading the TOML data files (shipped in ``certguard.pinned_roots`` or given by the user) with provenance, and
writing certguard's own files atomically."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from certguard.errors import DataError

_HEX64 = re.compile(r"^[0-9a-f]{64}$")

# Far above any real data file (the shipped legacy_roots.toml, the largest, is 240 KB), far below what would hurt:
# tomllib holds a whole document, and its parse tree, in memory.
MAX_DATA_BYTES = 4 << 20


@dataclass(frozen=True)
class Loaded:
    """A parsed TOML document with the SHA-256 of its bytes (printed in every result as provenance)."""

    source: str
    sha256: str
    doc: dict[str, Any]


def parse(source: str, raw: bytes) -> Loaded:
    """Parse TOML bytes read from ``source``.

    Raises:
        DataError: not UTF-8, not valid TOML, or nested too deeply for the parser.
    """
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except RecursionError as exc:
        # tomllib recurses once per nested array or inline table: ~600 levels exhaust Python's stack.
        raise DataError(source, "not valid TOML: arrays or tables nested too deeply",
                        key="error.file.toml_nested") from exc
    except ValueError as exc:
        # TOMLDecodeError and UnicodeDecodeError are ValueErrors; so is what tomllib lets through from int() for an
        # integer of more than 4300 digits (sys.get_int_max_str_digits).
        raise DataError(source, f"not valid TOML: {exc}", key="error.file.toml", detail=exc) from exc
    return Loaded(source, hashlib.sha256(raw).hexdigest(), doc)


def load_builtin(name: str) -> Loaded:
    raw = resources.files("certguard.pinned_roots").joinpath(name).read_bytes()
    return parse(f"pinned_roots/{name}", raw)


def read_bounded(path: Path, limit: int = MAX_DATA_BYTES) -> bytes:
    """The bytes of a user's data file, refusing one larger than ``limit`` without reading more than that
    (a wrong path such as /dev/zero, or a huge file, must not exhaust memory).

    Raises:
        DataError: unreadable, or larger than ``limit``.
    """
    try:
        with path.open("rb") as f:
            raw = f.read(limit + 1)
    except OSError as exc:
        raise DataError(str(path), f"cannot read: {exc.strerror or exc}", key="error.file.unreadable",
                        detail=exc.strerror or exc) from exc
    if len(raw) > limit:
        raise DataError(str(path), f"larger than {limit // (1 << 20)} MiB: not a certguard data file",
                        key="error.file.too_large", mib=limit // (1 << 20))
    return raw


def load_path(path: Path) -> Loaded:
    """A user's TOML data file.

    Raises:
        DataError: unreadable, too large or not valid TOML.
    """
    return parse(str(path), read_bounded(path))


def combined_sha256(loaded: Sequence[Loaded]) -> str:
    """One provenance hash for the data actually used: the file's own SHA-256 when only the shipped file is in
    use (so it can be compared with `sha256sum`), else a hash over the files' hashes in order."""
    if len(loaded) == 1:
        return loaded[0].sha256
    return hashlib.sha256("".join(d.sha256 for d in loaded).encode()).hexdigest()


def short_repr(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters: an error stays one readable line whatever the file holds."""
    try:
        text = repr(value)
    except ValueError:  # an integer of more than 4300 decimal digits (TOML allows it in hex: 0xfff…)
        return f"<a {type(value).__name__} too large to print>"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def hex64(value: object, where: str, source: str) -> str:
    """Validate a fingerprint: lowercase hex SHA-256 without colons (the one canonical form)."""
    if not isinstance(value, str) or not _HEX64.match(value):
        raise DataError(source, f"{where}: {short_repr(value)} is not a lowercase hex SHA-256 "
                                "(64 characters, no colons)", key="error.file.sha256", where=where,
                        value=short_repr(value))
    return value


def str_list(table: dict[str, Any], key: str, where: str, source: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(source, f"{where}: '{key}' must be a list of strings", key="error.file.str_list",
                        where=where, name=key)
    return tuple(value)


def opt_str(table: dict[str, Any], key: str, where: str, source: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise DataError(source, f"{where}: '{key}' must be a string", key="error.file.str", where=where, name=key)
    return value


def tables(doc: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise DataError(source, f"'{key}' must be an array of tables ([[{key}]])", key="error.file.tables",
                        name=key)
    return value


_OS_REASONS = {  # errno -> (catalog key, English)
    errno.ENOSPC: ("error.os.disk_full", "disk full"),
    errno.EDQUOT: ("error.os.disk_full", "disk full"),
    errno.EROFS: ("error.os.read_only", "read-only file system"),
    errno.EACCES: ("error.os.permission_denied", "permission denied"),
    errno.EPERM: ("error.os.permission_denied", "permission denied"),
}

# What a platform or file system answers when it cannot open or fsync a directory (Windows cannot open one; some
# network and FUSE file systems refuse fsync on it): nothing more can be done there, and the rename has happened.
_DIR_SYNC_UNSUPPORTED = frozenset({errno.EINVAL, errno.EBADF, errno.EACCES, errno.EPERM, errno.EISDIR,
                                   errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})


def describe_os_error(exc: OSError, path: Path | str, tr: Callable[[str], str] | None = None) -> str:
    """One line for the user: the path and what went wrong in plain words ("disk full", "read-only file system",
    "permission denied"), in the language of ``tr`` (an ``i18n.Translator``; English without one), else the
    system's own words."""
    known = _OS_REASONS.get(exc.errno or 0)
    if known is not None:
        reason = tr(known[0]) if tr is not None else known[1]
    else:
        reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{path}: {reason}"


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable: without this, a crash soon after ``os.replace`` can leave the old
    name, or no file at all, on many file systems (ext4 without auto_da_alloc, XFS; see fsync(2) "Calling fsync()
    does not necessarily ensure that the entry in the directory containing the file has also reached disk")."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        if exc.errno in _DIR_SYNC_UNSUPPORTED:
            return
        raise
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _DIR_SYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a part, even across a
    crash: the data is fsynced before the rename, the directory after it. A unique temporary name: concurrent
    writers (two API requests) cannot trip over each other.

    Raises:
        OSError: the file could not be written; its message names ``path`` and the reason in plain words
            (``describe_os_error``), its type and ``errno`` are the original's (PermissionError stays one).
    """
    try:
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
        _fsync_dir(path.parent)
    except OSError as exc:
        # Only errno is copied: with strerror or filename set, str() would become "[Errno 28] ..." again.
        described = type(exc)(describe_os_error(exc, path))
        described.errno = exc.errno
        raise described from exc
