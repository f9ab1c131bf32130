"""Assembling a ``TrustContext`` from the shipped data, the user's files and the local data directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import platformdirs

from certguard.device import anchors as truststores
from certguard.errors import DataError
from certguard.judge import intel, pins
from certguard.judge.analyze import TrustContext
from certguard.judge.ct import CTLogList

CT_LIST_NAME = "ct_log_list.json"


def data_dir(override: Path | None = None) -> Path:
    """Where certguard keeps its state (CT log list, later history and the API token)."""
    return override or Path(platformdirs.user_data_dir("certguard", appauthor=False))


def load_ct_logs(path: Path | None, directory: Path | None = None) -> CTLogList | None:
    """``--ct-logs FILE`` if given, else the list stored by ``certguard update``, else None (CT not checked).

    Raises:
        DataError: the file given (or stored) is unreadable or not a valid log list.
    """
    if path is None:
        stored = data_dir(directory) / CT_LIST_NAME
        if not stored.is_file():
            return None
        path = stored
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    return CTLogList.from_json(raw, str(path))


def load_trust_context(*, ca_bundle: Path | None = None, pin_files: Sequence[Path] = (),
                       intel_files: Sequence[Path] = (), ct_logs: Path | None = None,
                       directory: Path | None = None, use_device_store: bool = True) -> TrustContext:
    """Raises:
        DataError: any data file is unreadable or malformed.
    """
    return TrustContext(
        mozilla=truststores.mozilla(ca_bundle),
        device=truststores.device() if use_device_store else None,
        pins=pins.load(pin_files),
        intel=intel.load(intel_files),
        ct_logs=load_ct_logs(ct_logs, directory),
    )
