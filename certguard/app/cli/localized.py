"""click in certguard's language: help texts looked up in the catalogs when help is shown, click's own words
("Usage:", "Missing option", ...) translated through the same catalogs.

Light on purpose (click and ``certguard.i18n`` only): ``certguard --version`` imports it.

The language is the command line's ``--lang`` when it names one (read from the arguments before click parses
them: ``--help`` and usage errors are answered before any option is), else ``i18n.system_language()``
(CERTGUARD_LANG, then the locale), the one certguard picks for everything else.
"""

from __future__ import annotations

import contextlib
import gettext
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from certguard import i18n

_chosen: list[str] = []  # the --lang of the command line being run (main() sets and clears it)


def language() -> str:
    """The language of this command line: its ``--lang``, else the system's."""
    return _chosen[-1] if _chosen else i18n.system_language()


@contextlib.contextmanager
def language_of(argv: Sequence[str]) -> Iterator[None]:
    """While ``argv`` runs: its ``--lang X`` / ``--lang=X`` (an available language; anything else is left to click
    to refuse) is the language of help, click's messages and certguard's error lines."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else arg.removeprefix("--lang=") \
            if arg.startswith("--lang=") else None
        if value in i18n.available():
            found = value
    if found is not None:
        _chosen.append(found)
    try:
        yield
    finally:
        if found is not None:
            _chosen.pop()


def text(key: str, english: str) -> str:
    """``key`` in the user's language, else in the English catalog, else ``english`` (the text in the source):
    never the key itself."""
    lang = language()
    return i18n.catalog(lang).get(key) or i18n.catalog(i18n.DEFAULT).get(key) or english


class _LocalizedHelp:
    """``help`` reads the catalog entry ``help_key`` each time click formats it; the English given to click (the
    docstring or ``help=``) stays in the source, readable, and is the last fallback."""

    help_key: str | None
    _english_help: str | None

    @property
    def help(self) -> str | None:
        if self.help_key is None or not self._english_help:
            return self._english_help
        return text(self.help_key, self._english_help)

    @help.setter
    def help(self, value: str | None) -> None:
        self._english_help = value


class Command(_LocalizedHelp, click.Command):
    def __init__(self, *args: Any, help_key: str | None = None, **kwargs: Any) -> None:
        self.help_key = help_key
        super().__init__(*args, **kwargs)


class Group(_LocalizedHelp, click.Group):
    command_class = Command  # ``@group.command(..., help_key=...)`` makes a localized command

    def __init__(self, *args: Any, help_key: str | None = None, **kwargs: Any) -> None:
        self.help_key = help_key
        super().__init__(*args, **kwargs)


class Option(_LocalizedHelp, click.Option):
    def __init__(self, *args: Any, help_key: str | None = None, **kwargs: Any) -> None:
        self.help_key = help_key
        super().__init__(*args, **kwargs)


def option(*decls: str, key: str, **attrs: Any) -> Callable[[click.decorators.FC], click.decorators.FC]:
    """Like click.option; its ``help=`` (English, in the source) is shown from the catalog entry ``key``."""
    return click.option(*decls, cls=Option, help_key=key, **attrs)


# ---- click's own words -----------------------------------------------------------------------------------------
#
# click marks its messages for GNU gettext: every module does ``from gettext import gettext as _`` and calls
# ``_("Usage:")`` when it formats help or an error, so translating them means answering those calls. The stock
# route (``gettext.bindtextdomain`` + compiled .mo files) would keep a second copy of the texts in another format,
# and picks the language from LANGUAGE/LC_ALL/LANG, not CERTGUARD_LANG: it could disagree with certguard's own
# messages on the same screen, and forcing LANGUAGE in os.environ would leak into the tools certguard runs and
# parses (certutil, systemctl). Re-implementing click's help and error rendering in subclasses would copy its
# internals and still miss the messages built inside click.types ("File '/x' does not exist."). So we answer
# click's gettext calls ourselves: ``install()`` rebinds the name ``_`` (and ``ngettext``) in click's modules, and
# only where it still is the stdlib's function, i.e. exactly click's documented gettext markers; click's code paths
# stay untouched. The msgids below are click's own English strings (the stable ids of gettext);
# tests/test_cli_i18n.py checks that each still occurs in click's source, so a click upgrade that rewords one
# fails there instead of silently turning English.
CLICK_MESSAGES = {
    "Usage:": "click.usage",
    "Options": "click.options",
    "Commands": "click.commands",
    "Positional arguments": "click.arguments",
    "Show this message and exit.": "click.help_option",
    "Show the version and exit.": "click.version_option",
    "default: {default}": "click.default",
    "required": "click.required",
    "Error: {message}": "click.error",
    "Try '{command} {option}' for help.": "click.try_help",
    "Missing option": "click.missing_option",
    "Missing argument": "click.missing_argument",
    "Missing parameter": "click.missing_parameter",
    "Missing command.": "click.missing_command",
    "No such option {name!r}.": "click.no_such_option",
    "No such command {name!r}.": "click.no_such_command",
    "Option {name!r} does not take a value.": "click.no_value",
    "Invalid value for {param_hint}: {message}": "click.invalid_value_for",
    "Invalid value: {message}": "click.invalid_value",
    "{name} {filename!r} does not exist.": "click.path_missing",
    "{name} {filename!r} is a directory.": "click.path_is_dir",
    "{name} {filename!r} is a file.": "click.path_is_file",
    "{name} {filename!r} is not readable.": "click.path_unreadable",
    "file": "click.file",
    "directory": "click.directory",
    "path": "click.path",
    "{value!r} is not a valid {number_type}.": "click.not_a_number",
    "{value} is not in the range {range}.": "click.out_of_range",
    "Choose from:\n\t{choices}": "click.choose_from",
    "Aborted!": "click.aborted",
}
CLICK_PLURALS = {  # ngettext: singular msgid -> (key for one, key for several)
    "Got unexpected extra argument ({args})": ("click.extra_args.one", "click.extra_args.other"),
    "Option {name!r} requires an argument.": ("click.needs_value.one", "click.needs_value.other"),
    "{value!r} is not {choice}.": ("click.not_choice.one", "click.not_choice.other"),
    "Did you mean {possibility}?": ("click.did_you_mean.one", "click.did_you_mean.other"),
}


def _click_text(key: str, english: str) -> str:
    lang = language()
    if lang == i18n.DEFAULT:
        return english  # click's own English, exactly as click wrote it
    return i18n.catalog(lang).get(key) or english


def click_gettext(message: str) -> str:
    key = CLICK_MESSAGES.get(message)
    return message if key is None else _click_text(key, message)


def click_ngettext(singular: str, plural: str, n: int) -> str:
    english = singular if n == 1 else plural
    keys = CLICK_PLURALS.get(singular)
    return english if keys is None else _click_text(keys[0] if n == 1 else keys[1], english)


def install() -> None:
    """Answer click's gettext calls from certguard's catalogs (idempotent). Call before click types are built:
    click.Path translates its noun ("file") when it is constructed."""
    ours = {"_": (gettext.gettext, click_gettext), "ngettext": (gettext.ngettext, click_ngettext)}
    for name, module in list(sys.modules.items()):
        if name != "click" and not name.startswith("click."):
            continue
        namespace = vars(module)
        for attr, (stdlib, replacement) in ours.items():
            if namespace.get(attr) is stdlib:
                namespace[attr] = replacement
