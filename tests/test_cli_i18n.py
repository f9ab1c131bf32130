"""The command line in the user's language: --help texts, click's own words and certguard's error lines, each
checked on a real `python -m certguard` run, each beside a control that fails when the language logic is wrong."""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from certguard.app.cli import _COMMANDS, cli, localized, short_help_key

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "certguard" / "locales"


def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def run(lang: str | None, *args: str, cwd: Path | None = None,
        pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "COLUMNS": "200"}
    if lang is not None:
        env["CERTGUARD_LANG"] = lang
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-m", "certguard", *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False, cwd=cwd)


def first_words(text: str, n: int = 4) -> str:
    return " ".join(text.split()[:n])


def test_audit_help_in_kazakh_and_english() -> None:
    kk, en = catalog("kk"), catalog("en")
    out = run("kk", "audit", "--help")
    assert out.returncode == 0, out.stderr
    for key in ("cli.help.audit", "cli.opt.audit.store", "cli.opt.sites"):
        assert first_words(kk[key]) in out.stdout, key
    for key in ("click.usage", "click.options", "click.help_option"):
        assert kk[key] in out.stdout, key
    assert first_words(en["cli.help.audit"]) not in out.stdout and "Usage:" not in out.stdout
    # control: English stays English (and shows none of the Kazakh)
    out = run("en", "audit", "--help")
    assert out.stdout.startswith("Usage: certguard audit")
    assert first_words(en["cli.opt.audit.store"]) in out.stdout and "Show this message and exit." in out.stdout
    assert first_words(kk["cli.help.audit"]) not in out.stdout


def test_group_help_lists_the_commands_in_russian() -> None:
    ru = catalog("ru")
    out = run("ru", "--help")
    assert ru["click.commands"] + ":" in out.stdout and first_words(ru["cli.help.short.check"]) in out.stdout
    assert first_words(ru["cli.help.certguard"]) in out.stdout and ru["click.version_option"] in out.stdout
    assert "Commands:" in run("en", "--help").stdout


def test_missing_sites_file_is_one_french_line(tmp_path: Path) -> None:
    out = run("fr", "check", "--sites", str(tmp_path / "missing"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("Erreur : ")]
    assert len(errors) == 1 and "'--sites'" in errors[0] and "introuvable" in errors[0], out.stderr
    assert "Utilisation : certguard check" in out.stderr and "Usage:" not in out.stderr
    # control: the same mistake in English
    out = run("en", "check", "--sites", str(tmp_path / "missing"))
    assert out.returncode == 2 and "Error: Invalid value for '--sites': File" in out.stderr
    assert "Erreur" not in out.stderr


def test_usage_error_in_russian_and_unknown_language_falls_back_to_english() -> None:
    chain = str(ROOT / "README.md")  # exists: the missing --host is the only mistake
    out = run("ru", "inspect", chain)
    assert out.returncode == 2
    assert "Ошибка: Не указан параметр '--host'." in out.stderr and "Справка: «certguard inspect --help»." in out.stderr
    out = run("ru", "inspect", "--hots", "x")
    assert "Нет такого параметра: '--hots'." in out.stderr
    for lang in ("xx", None):  # unknown CERTGUARD_LANG, and none at all (LANG=C): English
        out = run(lang, "inspect", chain)
        assert out.returncode == 2 and "Error: Missing option '--host'." in out.stderr
        assert "Try 'certguard inspect --help' for help." in out.stderr and "Ошибка" not in out.stderr


def test_certguard_error_line_is_localized() -> None:
    out = run("fr", "check", "--no-device-store", "--connect-to", "nonsense", "a.test")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr == "certguard : erreur : --connect-to 'nonsense' : 4 champs séparés par « : » attendus\n"
    out = run("en", "check", "--no-device-store", "--connect-to", "nonsense", "a.test")
    assert out.stderr == "certguard: error: --connect-to 'nonsense': expected 4 fields separated by ':'\n"


def test_bad_sites_file_line_in_kazakh(tmp_path: Path) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text("# nothing\nbad host!\n")
    out = run("kk", "check", "--no-device-store", "--sites", str(sites))
    assert out.returncode == 2
    assert out.stderr == f"certguard: қате: {sites}:2: 'bad host!' — хост атауы да, мекенжай да емес\n"
    assert "is not a host name" in run("en", "check", "--no-device-store", "--sites", str(sites)).stderr


@pytest.mark.parametrize("content", [b"hello", b"\x30\x03\x02\x01\x01",
                                     b"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"])
def test_inspect_on_a_non_certificate_file_is_one_localized_line(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_bytes(content)
    for lang, prefix in (("ru", "certguard: ошибка: "), ("en", "certguard: error: ")):
        out = run(lang, "inspect", str(bad), "--host", "x.test", "--no-device-store")
        assert out.returncode == 2 and out.stdout == ""
        lines = out.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(prefix + str(bad)), out.stderr
        for leak in ("ParseError", "Traceback", "ValueError"):
            assert leak not in out.stderr


def test_a_key_missing_from_one_catalog_falls_back_to_english(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "certguard", tmp_path / "certguard", ignore=shutil.ignore_patterns("__pycache__"))
    fr_path = tmp_path / "certguard" / "locales" / "fr.json"
    fr = json.loads(fr_path.read_text(encoding="utf-8"))
    for key in ("cli.opt.sites", "click.usage", "error.target.fields"):
        del fr[key]
    fr_path.write_text(json.dumps(fr, ensure_ascii=False), encoding="utf-8")
    en = catalog("en")
    out = run("fr", "check", "--help", cwd=tmp_path, pythonpath=tmp_path)
    assert out.returncode == 0, out.stderr
    assert first_words(en["cli.opt.sites"]) in out.stdout and "Usage: certguard check" in out.stdout
    assert "cli.opt.sites" not in out.stdout and "click.usage" not in out.stdout
    assert first_words(fr["cli.opt.low-profile"]) in out.stdout  # control: the rest is still French
    out = run("fr", "check", "--connect-to", "x", "a.test", cwd=tmp_path, pythonpath=tmp_path)
    assert out.stderr == "certguard : erreur : --connect-to 'x': expected 4 fields separated by ':'\n"


def test_version_loads_neither_flask_nor_rich() -> None:
    code = ("import sys\nfrom certguard.app.cli import main\nmain(sys.argv[1:])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'rich', 'waitress')))")
    env = {"PATH": "/usr/bin:/bin", "CERTGUARD_LANG": "kk"}
    out = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True, env=env,
                         timeout=60, check=False)
    assert out.returncode == 0 and "certguard" in out.stdout and out.stdout.rstrip().endswith("[]"), out.stdout
    # control: the check sees rich when a command does load it
    out = subprocess.run([sys.executable, "-c", code, "check", "--help"], capture_output=True, text=True, env=env,
                         timeout=60, check=False)
    assert "'rich'" in out.stdout


def _help_entries() -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(cmd: click.Command, ctx: click.Context) -> None:
        for obj in (cmd, *cmd.params):
            key = getattr(obj, "help_key", None)
            english = getattr(obj, "_english_help", None)
            if key and english:
                found[key] = inspect.cleandoc(english)
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None
                walk(sub, ctx)

    walk(cli, click.Context(cli))
    found.update({short_help_key(name): english for name, (_, _, english) in _COMMANDS.items()})
    return found


def test_english_catalog_says_what_the_source_says() -> None:
    en = catalog("en")
    entries = _help_entries()
    assert len(entries) > 80
    assert {k: en.get(k) for k in entries} == entries
    # control: a catalog that drifted from the source is caught by the same comparison
    key = next(iter(entries))
    drifted = {**en, key: "something else"}
    assert {k: drifted.get(k) for k in entries} != entries


def test_every_translated_click_message_still_exists_in_click() -> None:
    source = "".join(p.read_text(encoding="utf-8") for p in Path(click.__file__).parent.glob("*.py"))
    en = catalog("en")
    msgids = [*localized.CLICK_MESSAGES, *localized.CLICK_PLURALS]
    missing = [m for m in msgids if json.dumps(m) not in source and repr(m) not in source]
    assert missing == []
    for msgid, key in localized.CLICK_MESSAGES.items():
        assert en[key] == msgid
    assert json.dumps("No such opton {name!r}.") not in source  # control: the search would see a reworded one


def test_the_command_lines_own_lang_wins_for_help_and_errors() -> None:
    """`--lang` is read before click answers --help or a usage error, and for certguard's own error lines."""
    kk, ru = catalog("kk"), catalog("ru")
    out = run("en", "audit", "--lang", "kk", "--help")
    assert out.returncode == 0 and first_words(kk["cli.help.audit"]) in out.stdout and "Usage:" not in out.stdout
    out = run("en", "inspect", "--lang=ru", "/dev/null", "--host", "a.test")
    assert out.returncode == 2 and out.stderr.startswith(ru["error.line"].split("{message}")[0]), out.stderr
    # controls: an unknown --lang leaves the language alone (click refuses the value itself), and "--lang" after
    # "--" is an argument, not an option
    out = run("en", "audit", "--lang", "xx", "--help")
    assert out.stdout.startswith("Usage: certguard audit")
    out = run("en", "inspect", "--host", "a.test", "--", "--lang=kk")  # a file named "--lang=kk" (none such)
    assert out.returncode == 2 and "Usage: certguard inspect" in out.stderr, out.stderr
    assert kk["click.usage"] not in out.stderr
