"""Assembling a ``TrustContext`` from the shipped data, the user's files, the device and the local data directory."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import platformdirs

from certguard import device
from certguard.data import anchors, files, intel, pins
from certguard.judge.ctlog import MAX_LIST_BYTES, CTLogList
from certguard.judge.signals import TrustContext

CT_LIST_NAME = "ct_log_list.json"
# Shipped so that a fresh install can verify real SCTs before its first 'certguard update': Chrome's log list
# v81.5 of 2026-01-11 (gstatic.com/ct/log_list/v3/log_list.json, signature checked when it was taken). Like any
# list, it is enforced only at moments it describes (ct.MAX_LIST_AGE / MAX_LIST_LEAD); valid SCTs always count.
CT_SNAPSHOT = "pinned_roots/ct_log_list.json (Chrome log list 81.5, 2026-01-11, shipped with certguard)"


def data_dir(override: Path | None = None) -> Path:
    """Where certguard keeps its state (CT log list, history, settings and the API token)."""
    return override or Path(platformdirs.user_data_dir("certguard", appauthor=False))


def load_ct_logs(path: Path | None, directory: Path | None = None) -> CTLogList:
    """``--ct-logs FILE`` if given, else the list stored by ``certguard update``, else the shipped snapshot.

    Raises:
        DataError: the file given (or stored) is unreadable or not a valid log list.
    """
    if path is None:
        stored = data_dir(directory) / CT_LIST_NAME
        if not stored.is_file():
            raw = resources.files("certguard.pinned_roots").joinpath(CT_LIST_NAME).read_bytes()
            return CTLogList.from_json(raw, CT_SNAPSHOT)
        path = stored
    # bounded: a wrong path such as /dev/zero must not hang or exhaust memory
    return CTLogList.from_json(files.read_bounded(path, MAX_LIST_BYTES), str(path))


def load_trust_context(*, ca_bundle: Path | None = None, pin_files: Sequence[Path] = (),
                       intel_files: Sequence[Path] = (), ct_logs: Path | None = None,
                       directory: Path | None = None, use_device_store: bool = True,
                       home: Path | None = None) -> TrustContext:
    """Raises:
        DataError: any data file is unreadable or malformed.
    """
    mozilla = anchors.mozilla(ca_bundle)
    return TrustContext(
        mozilla=mozilla,
        # The same reader as 'certguard audit' (system bundle, anchor folders, Firefox and Chromium NSS, …).
        device=device.device_anchors(device.read_device(home=home)) if use_device_store else None,
        pins=pins.load(pin_files),
        intel=intel.load(intel_files),
        ct_logs=load_ct_logs(ct_logs, directory),
        # A --ca-bundle replaces Mozilla's program entirely (tests, audits): then no ex-Mozilla roots either. Loaded
        # on first need only (a chain no Mozilla root vouches for): most runs never read the file.
        exroots=anchors.LazyExRoots(lambda: anchors.exroots(mozilla)) if ca_bundle is None else None,
    )
