"""The device's trust stores: one reader per platform, chosen once, and the anchors they give.

``read_device()`` returns every store of this device that certguard knows how to read (``certguard audit``);
``device_anchors()`` turns the same scan into the anchor set ``certguard check`` uses to say "your device trusts
this chain", so both commands see the same roots (NSS databases included). Readers only read files and run
local commands, never the network; a store that cannot be read is a ``Problem`` in the scan, never an exception.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path

from certguard.device.files import Runner, _run, read_file, read_folder
from certguard.device.linux import read_linux
from certguard.device.macos import read_macos
from certguard.device.nss import read_chromium_nss, read_firefox, read_nss
from certguard.device.windows import EnumCerts, read_windows
from certguard.judge import certs
from certguard.judge.storescan import Problem, StoreScan
from certguard.judge.verify import AnchorSet

__all__ = ["EnumCerts", "Runner", "device_anchors", "read_device", "read_path"]

# One signature for every platform: (home, run, linux_root, enum) → StoreScan.
DeviceReader = Callable[[Path, Runner, Path, EnumCerts | None], StoreScan]


def _linux(home: Path, run: Runner, linux_root: Path, enum: EnumCerts | None) -> StoreScan:
    return read_linux(linux_root, run).extend(read_firefox(home, run)).extend(read_chromium_nss(home, run))


def _macos(home: Path, run: Runner, linux_root: Path, enum: EnumCerts | None) -> StoreScan:
    return read_macos(home, run).extend(read_firefox(home, run))


def _windows(home: Path, run: Runner, linux_root: Path, enum: EnumCerts | None) -> StoreScan:
    return read_windows(enum)


# Keyed by ``platform.system()``; this device's reader is looked up once, at import (truststore does the same).
READERS: dict[str, DeviceReader] = {"Linux": _linux, "Darwin": _macos, "Windows": _windows}
SYSTEM = platform.system()
_THIS_DEVICE: DeviceReader | None = READERS.get(SYSTEM)


def read_device(system: str | None = None, home: Path | None = None, *, run: Runner = _run,
                linux_root: Path = Path("/"), enum: EnumCerts | None = None) -> StoreScan:
    """Every store of this kind of system that certguard knows how to read.

    Args:
        system: a ``platform.system()`` value; None for this device.
        home: the user's home (Firefox profiles, Chromium's NSS database, the login keychain); None for
            ``Path.home()``.
        run, linux_root, enum: injected commands, file tree and Windows store contents, for tests.

    Returns:
        The scan; for a system with no reader, an empty scan with one Problem saying so.
    """
    reader = _THIS_DEVICE if system is None else READERS.get(system)
    if reader is None:
        name = SYSTEM if system is None else system
        scan = StoreScan()
        scan.problems.append(Problem(name, "-", f"no trust-store reader for {name!r}", "problem.no_reader",
                                     (("name", name),)))
        return scan
    return reader(Path.home() if home is None else home, run, linux_root, enum)


def read_path(path: Path, run: Runner = _run) -> StoreScan:
    """``audit --store PATH``: an NSS database folder, a folder of PEM/DER files, or one bundle file."""
    if path.is_dir():
        if (path / "cert9.db").exists() or (path / "cert8.db").exists():
            return read_nss(path, "nss", None, run)
        return read_folder(path, "file")
    return read_file(path, "file")


def device_anchors(scan: StoreScan) -> AnchorSet | None:
    """Every certificate a store of ``scan`` trusts for TLS servers, as one anchor set.

    ``source`` names the stores read, in scan order: ``device (linux, nss-chromium)``.

    Returns:
        None when no store trusts any certificate cryptography can load (the device signal is then unknown).
        An unloadable certificate is skipped: the reader already reported it as a problem.
    """
    loaded = []
    for der in scan.trusted_ders():
        try:
            loaded.append(certs.parse(der))
        except ValueError:
            continue
    if not loaded:
        return None
    stores = list(dict.fromkeys(store for store, _ in scan.scanned))
    return AnchorSet(source=f"device ({', '.join(stores)})", certs=tuple(loaded))
