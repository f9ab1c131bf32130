"""certguard's exceptions, split by who is at fault.

Expected network outcomes (timeouts, resets, alerts) are *values* (``models.ProbeFailure``), not exceptions.
Misuse of the API raises the built-in ``ValueError`` / ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Callable


class CertguardError(Exception):
    """Base class: something the user can act on, shown without a traceback.

    ``key`` (optional) names the catalog entry that says the same in the user's language, with ``params``
    (its placeholders, as strings); ``str()`` stays English for logs and for callers that match on it.
    """

    def __init__(self, message: str, *, key: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = {name: str(value) for name, value in params.items()}

    def localized(self, tr: Callable[..., str]) -> str:
        """The message for the user: ``tr(key, **params)`` (``tr`` is an ``i18n.Translator``), else ``str()``."""
        return tr(self.key, **self.params) if self.key else str(self)


class DataError(CertguardError):
    """A data file (pins, intel, site list, certificate bundle, CT log list) is unreadable or malformed."""

    def __init__(self, source: str, message: str, *, key: str | None = None, at: str | None = None,
                 **params: object) -> None:
        """``at``: where in ``source`` (an entry), put before the localized message; ``message`` already has it."""
        super().__init__(f"{source}: {message}", key=key, **params)
        self.source = source
        self.message = message
        self.at = at

    def localized(self, tr: Callable[..., str]) -> str:
        if not self.key:
            return str(self)
        text = tr(self.key, **self.params)
        if self.at:
            text = tr("error.located", where=self.at, message=text)
        return tr("error.located", where=self.source, message=text)  # each language's own colon


class ConfigError(CertguardError):
    """The user's options or settings are wrong (bad --connect-to, unknown language, ...)."""


class SettingsError(ConfigError):
    """A setting sent through the API is invalid. Carries a catalog key and its parameters, so the UI can say what
    is wrong in the user's language; ``str()`` stays English for logs."""

    key: str

    def __init__(self, message: str, key: str, **params: str) -> None:
        super().__init__(message, key=key, **params)


class FetchError(CertguardError):
    """A download of signed data failed or was rejected (network, TLS, HTTP status, size, signature)."""

    def __init__(self, url: str, message: str, *, key: str | None = None, **params: object) -> None:
        super().__init__(f"{url}: {message}", key=key, **params)
        self.url = url
        self.message = message

    def localized(self, tr: Callable[..., str]) -> str:
        return tr("error.located", where=self.url, message=tr(self.key, **self.params)) if self.key else str(self)
