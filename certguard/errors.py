"""certguard's exceptions, split by who is at fault.

Expected network outcomes (timeouts, resets, alerts) are *values* (``models.ProbeFailure``), not exceptions.
Misuse of the API raises the built-in ``ValueError`` / ``TypeError``.
"""

from __future__ import annotations


class CertguardError(Exception):
    """Base class: something the user can act on, shown without a traceback."""


class DataError(CertguardError):
    """A data file (pins, intel, site list, certificate bundle, CT log list) is unreadable or malformed."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class ConfigError(CertguardError):
    """The user's options or settings are wrong (bad --connect-to, unknown language, ...)."""


class SettingsError(ConfigError):
    """A setting sent through the API is invalid. Carries a catalog key and its parameters, so the UI can say what
    is wrong in the user's language; ``str()`` stays English for logs."""

    def __init__(self, message: str, key: str, **params: str) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


class FetchError(CertguardError):
    """A download of signed data failed or was rejected (network, TLS, HTTP status, size, signature)."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.message = message
