"""The data-file loaders (pins, intel, site lists, CT log lists) and the atomic writer, against hostile files.

A bad data file is the user's (or our) data being wrong: one ``certguard: error: FILE[:LINE]: …`` line and exit 2.
Exit 1 means only "interception or suspicious chain found", and a raw traceback also exits 1: every failure here is
a way a broken file could pass for an interception, or crash certguard.
"""

from __future__ import annotations

import base64
import copy
import errno
import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ctlog
import pki
import pytest
from conftest import CheckRun

from certguard.data import files, intel, pins, targets
from certguard.errors import DataError
from certguard.judge.ctlog import CTLogList
from certguard.judge.models import InterceptorKind

Runner = Callable[..., CheckRun]
DEEP = 600  # tomllib recurses once per level: this exhausted Python's stack (RecursionError) before the fix
HEX = "ab" * 32


def assert_data_error(res: CheckRun, *needles: str) -> None:
    """Exit 2, exactly one 'certguard: error:' line on stderr, naming every needle, and no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("certguard: error: "), res.stderr
    assert "Traceback" not in res.stderr + res.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def check(run_cli: Runner, option: str, path: Path) -> CheckRun:
    """``certguard check`` with one data file; a host only where the option is not itself the site list."""
    hosts = () if option == "--sites" else ("a.test",)
    return run_cli("check", "--no-device-store", "--json", option, str(path), *hosts)


# ---- TOML nested too deeply, too large, or with values tomllib lets through ------------------------------------

DEEP_DOCS = {
    "arrays": "a = " + "[" * DEEP + "]" * DEEP + "\n",
    "inline tables": "a = " + "{b = " * DEEP + "1" + "}" * DEEP + "\n",
}


@pytest.mark.parametrize("option", ["--pins", "--intel", "--sites"])
@pytest.mark.parametrize("shape", sorted(DEEP_DOCS))
def test_deeply_nested_toml_is_a_data_error(run_cli: Runner, tmp_path: Path, option: str, shape: str) -> None:
    f = tmp_path / "deep.toml"
    f.write_text(DEEP_DOCS[shape])
    assert_data_error(check(run_cli, option, f), str(f), "nested too deeply")


@pytest.mark.parametrize("load", [lambda p: pins.load([p]), lambda p: intel.load([p]), targets.load_site_list])
def test_deeply_nested_toml_through_each_loader(tmp_path: Path, load: Callable[[Path], object]) -> None:
    f = tmp_path / "deep.toml"
    f.write_text(DEEP_DOCS["arrays"])
    with pytest.raises(DataError) as e:
        load(f)
    assert e.value.source == str(f)


def test_an_integer_too_long_for_int_is_a_data_error(run_cli: Runner, tmp_path: Path) -> None:
    # tomllib hands the digits to int(), whose ValueError (more than sys.get_int_max_str_digits() = 4300 digits)
    # is not a TOMLDecodeError.
    f = tmp_path / "pins.toml"
    f.write_text("x = " + "1" * 5000 + "\n")
    assert_data_error(check(run_cli, "--pins", f), str(f), "not valid TOML")


# TOML allows hexadecimal integers of any length and int(…, 16) has no digit limit, but str() and repr() of an
# integer of more than 4300 decimal digits raise a ValueError: found by reading, now also in the fuzzer's tokens.
HUGE_HEX = "0x" + "f" * 3900


@pytest.mark.parametrize(("option", "text", "needle"), [
    ("--sites", f'[[site]]\nhost = "a.test"\nport = {HUGE_HEX}\n', "site[0] ('a.test'): port (huge)"),
    ("--pins", f"[keys.k]\nspki_sha256 = {HUGE_HEX}\n", "too large to print"),
    ("--pins", f'[[pinsets]]\nhosts = ["a.test"]\nkeys = ["k"]\n[keys.k]\nspki_sha256 = [{HUGE_HEX}]\n',
     "keys.k.spki_sha256"),
    ("--intel", f'[[interceptor]]\nid = "x"\nname = "X"\nkind = {HUGE_HEX}\n', "kind must be one of"),
])
def test_a_huge_hexadecimal_integer_is_a_data_error(run_cli: Runner, tmp_path: Path, option: str, text: str,
                                                   needle: str) -> None:
    f = tmp_path / "data.toml"
    f.write_text(text)
    assert_data_error(check(run_cli, option, f), str(f), needle)


@pytest.mark.parametrize("option", ["--pins", "--intel", "--sites"])
def test_a_file_larger_than_the_bound_is_refused_unread(run_cli: Runner, tmp_path: Path, option: str) -> None:
    # Valid TOML after 5 MiB of comment: only the size is wrong.
    f = tmp_path / "big.toml"
    f.write_text(("#" * 1023 + "\n") * 5 * 1024 + '[[site]]\nhost = "a.test"\n')
    assert f.stat().st_size > files.MAX_DATA_BYTES
    assert_data_error(check(run_cli, option, f), str(f), "larger than 4 MiB")


def test_read_bounded_reads_no_more_than_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x" * 101)
    assert files.read_bounded(f, limit=101) == b"x" * 101
    with pytest.raises(DataError, match="larger than"):
        files.read_bounded(f, limit=100)
    with pytest.raises(DataError, match="cannot read"):
        files.read_bounded(tmp_path / "missing")


# ---- site lists -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "needle"), [
    ("port = 70000", "70000"),
    ("port = 0", "port"),
    ("port = -1", "port"),
    ("port = true", "port (integer)"),  # a bool is an int in Python: this was accepted as a port
    ('port = "443"', "port (integer)"),
])
def test_toml_site_list_errors_name_the_file_and_the_entry(run_cli: Runner, tmp_path: Path, entry: str,
                                                           needle: str) -> None:
    f = tmp_path / "sites.toml"
    f.write_text(f'[[site]]\nhost = "ok.test"\n\n[[site]]\nhost = "a.test"\n{entry}\n')
    assert_data_error(check(run_cli, "--sites", f), str(f), "site[1]", needle)


def test_toml_site_list_bad_host_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "sites.toml"
    f.write_text('[[site]]\nhost = "bad host"\n')
    with pytest.raises(DataError, match=r"site\[0\]") as e:
        targets.load_site_list(f)
    assert e.value.source == str(f)


def test_plain_site_list_errors_name_file_and_line(run_cli: Runner, tmp_path: Path) -> None:
    f = tmp_path / "sites.txt"
    f.write_text("# sites\na.test\n\nb.test:99999\n")
    assert_data_error(check(run_cli, "--sites", f), f"{f}:4", "99999")


@pytest.mark.parametrize("line", ["a.test:²", "[::1]:²", "a.test:٣"])
def test_a_port_of_non_ascii_digits_is_a_data_error(run_cli: Runner, tmp_path: Path, line: str) -> None:
    # str.isdigit() is true for '²' and '٣'; int('²') raised a ValueError (a traceback), int('٣') gave port 3.
    f = tmp_path / "sites.txt"
    f.write_text(f"a.test\n{line}\n")
    assert_data_error(check(run_cli, "--sites", f), f"{f}:2", "not a port number")


def test_a_host_argument_with_a_superscript_port_is_a_usage_error(run_cli: Runner) -> None:
    res = run_cli("check", "--no-device-store", "a.test:²")
    assert res.exit_code == 2 and res.stderr.startswith("certguard: error: ") and "not a port number" in res.stderr


def test_plain_site_list_not_utf8(run_cli: Runner, tmp_path: Path) -> None:
    f = tmp_path / "sites.txt"
    f.write_bytes(b"a.test\n\xff\xfe\n")
    assert_data_error(check(run_cli, "--sites", f), str(f), "UTF-8")


def test_at_most_ten_thousand_sites_plain(tmp_path: Path) -> None:
    f = tmp_path / "sites.txt"
    f.write_text("".join(f"s{i}.test\n" for i in range(targets.MAX_SITES)))
    assert len(targets.load_site_list(f)) == targets.MAX_SITES  # the bound itself is allowed
    f.write_text("# many\n" + "".join(f"s{i}.test\n" for i in range(targets.MAX_SITES + 1)))
    with pytest.raises(DataError, match="lists more than 10000 sites") as e:
        targets.load_site_list(f)
    assert e.value.source == f"{f}:{targets.MAX_SITES + 2}"  # the line of the first site too many


def test_at_most_ten_thousand_sites_toml(tmp_path: Path) -> None:
    f = tmp_path / "sites.toml"
    f.write_text("".join(f'[[site]]\nhost = "s{i}.test"\n' for i in range(targets.MAX_SITES + 1)))
    with pytest.raises(DataError, match="lists more than 10000 sites") as e:
        targets.load_site_list(f)
    assert e.value.source == str(f)


def test_too_many_sites_through_the_cli_probes_nothing(run_cli: Runner, tmp_path: Path) -> None:
    f = tmp_path / "sites.txt"
    f.write_text("".join(f"s{i}.invalid\n" for i in range(targets.MAX_SITES + 1)))
    assert_data_error(check(run_cli, "--sites", f), str(f), "lists more than 10000 sites")


def test_a_good_toml_site_list_still_loads(tmp_path: Path) -> None:
    f = tmp_path / "sites.toml"
    f.write_text('[[site]]\nhost = "A.test"\nport = 8443\nsensitive = true\n')
    (t,) = targets.load_site_list(f)
    assert (t.host, t.port, t.sensitive) == ("a.test", 8443, True)


def test_a_toml_site_without_port_keeps_the_port_in_its_host(tmp_path: Path) -> None:
    # 'host = "[::1]:8443"' without 'port' was probed on 443: the default replaced the port the host names.
    f = tmp_path / "sites.toml"
    f.write_text('[[site]]\nhost = "[::1]:8443"\n\n[[site]]\nhost = "b.test"\n\n'
                 '[[site]]\nhost = "c.test:8443"\nport = 9443\n')
    assert [(t.host, t.port) for t in targets.load_site_list(f)] == [("::1", 8443), ("b.test", 443),
                                                                     ("c.test", 9443)]


# ---- intel ------------------------------------------------------------------------------------------------------

def intel_entry(**fields: str) -> str:
    base = {"id": '"x"', "name": '"X"', "kind": '"state"', "spki_sha256": f'["{HEX}"]'}
    base.update(fields)
    return "[[interceptor]]\n" + "".join(f"{k} = {v}\n" for k, v in base.items())


def test_intel_kind_unknown_is_refused_with_the_allowed_kinds(run_cli: Runner, tmp_path: Path) -> None:
    # 'unknown' is certguard's own label for an interceptor nobody named; a data file names one.
    f = tmp_path / "intel.toml"
    f.write_text(intel_entry(kind='"unknown"'))
    kinds = [k.value for k in InterceptorKind if k is not InterceptorKind.UNKNOWN]
    assert_data_error(check(run_cli, "--intel", f), str(f), "interceptor x", "kind must be one of", *kinds)


def test_intel_every_listed_kind_is_accepted(tmp_path: Path) -> None:
    # negative control for the test above
    for kind in InterceptorKind:
        if kind is InterceptorKind.UNKNOWN:
            continue
        f = tmp_path / f"{kind.value}.toml"
        f.write_text(intel_entry(kind=f'"{kind.value}"'))
        assert any(e.kind is kind for e in intel.load([f]).entries)


@pytest.mark.parametrize(("fields", "needle"), [
    ({"kind": "5"}, "kind must be one of"),
    ({"kind": '["state"]'}, "kind must be one of"),
    ({"issuer_patterns": '[{cn = "' + "(" * 1000 + ")" * 1000 + '"}]'}, "bad regular expression"),  # RecursionError
    ({"issuer_patterns": '[{cn = "a{99999999999}"}]'}, "bad regular expression"),  # OverflowError
    ({"issuer_patterns": '[{cn = "["}]'}, "bad regular expression"),
    ({"issuer_patterns": '[{xx = "a"}]'}, "issuer pattern"),
    ({"issuer_patterns": '"a"'}, "issuer_patterns must be a list"),
    ({"spki_sha256": '["AB:CD"]'}, "not a lowercase hex SHA-256"),
    ({"spki_sha256": '"' + "a" * 10_000 + '"'}, "must be a list of strings"),
    ({"id": "1"}, "'id' must be a string"),
    ({"id": '""'}, "'id' and 'name' are required"),
])
def test_intel_malformed_entries(run_cli: Runner, tmp_path: Path, fields: dict[str, str], needle: str) -> None:
    f = tmp_path / "intel.toml"
    f.write_text(intel_entry(**fields))
    assert_data_error(check(run_cli, "--intel", f), str(f), needle)


def test_intel_duplicate_id_names_the_second_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(intel_entry())
    b.write_text(intel_entry())
    with pytest.raises(DataError, match="already defined in") as e:
        intel.load([a, b])
    assert e.value.source == str(b) and str(a) in e.value.message


def test_an_error_line_stays_short_whatever_the_value(tmp_path: Path) -> None:
    f = tmp_path / "intel.toml"
    f.write_text(intel_entry(kind='"' + "k" * 100_000 + '"'))
    with pytest.raises(DataError) as e:
        intel.load([f])
    assert len(str(e.value)) < 500


# ---- pins -------------------------------------------------------------------------------------------------------

PINSET = f'[[pinsets]]\nname = "t"\nhosts = ["a.test"]\nkeys = ["{HEX}"]\n'


@pytest.mark.parametrize(("text", "needle"), [
    (PINSET + 'cas = ["nope"]\n', "unknown CA 'nope'"),
    (PINSET + 'cas = "nope"\n', "'cas' must be a list of strings"),
    (PINSET + "cas = [1]\n", "'cas' must be a list of strings"),
    (PINSET + 'confidence = "certain"\n', "confidence must be one of high, medium"),
    (PINSET + "confidence = [1]\n", "confidence must be one of"),
    (PINSET + 'include_subdomains = "yes"\n', "include_subdomains must be true or false"),
    (PINSET + "date = {y = 2026}\n", "date must be a date"),
    (PINSET + "date = [2026]\n", "date must be a date"),
    ('[keys]\nk = "abc"\n', "keys.k must be a table"),
    ("keys = 5\n", "'keys' must be a table"),
    ("[keys.k]\nspki_sha256 = 5\n", "keys.k.spki_sha256"),
    ("[keys.k]\nspki_sha256 = \"" + HEX + "\"\nname = 5\n", "'name' must be a string"),
    ("cas = []\n", "'cas' must be a table"),
    ('[cas]\nc = "x"\n', "cas.c must be a table"),
    ('[cas.c]\nroots = ["missing-key"]\n', "cas.c: unknown key or hash"),
    ("pinsets = 5\n", "'pinsets' must be an array of tables"),
    ('[[pinsets]]\nname = "t"\nhosts = []\nkeys = []\n', "needs at least one host and one key"),
    ('[[pinsets]]\nhosts = ["a.test"]\nkeys = ["k:no"]\n', "not a lowercase hex SHA-256"),
])
def test_pins_malformed(run_cli: Runner, tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "pins.toml"
    f.write_text(text)
    assert_data_error(check(run_cli, "--pins", f), str(f), needle)


def test_pins_good_file_with_cas_loads(tmp_path: Path) -> None:
    # negative control: the same shapes, right
    f = tmp_path / "pins.toml"
    f.write_text(f'[keys.k]\nspki_sha256 = "{HEX}"\n[cas.c]\nroots = ["k"]\n' + PINSET
                 + 'cas = ["c"]\nconfidence = "high"\n')
    db = pins.load([f])
    assert db.pinsets[0].cas[0].roots[0].spki_sha256 == HEX and db.pinsets[0].confidence == "high"
    f.write_text(PINSET + "date = 2026-12-01\n")
    assert pins.load([f]).pinsets[0].date == "2026-12-01"


# ---- CT log lists (--ct-logs, CTLogList.from_json) --------------------------------------------------------------

@pytest.fixture(scope="module")
def real_list() -> dict[str, Any]:
    """A valid v3 list of two logs (one classic, one tiled) from tests/ctlog.py."""
    logs = [ctlog.TestLog("Test Log A", "Op A"), ctlog.TestLog("Test Log B", "Op B", tiled=True)]
    doc: dict[str, Any] = json.loads(ctlog.log_list(logs))
    doc["operators"][0]["logs"][0]["temporal_interval"] = {"start_inclusive": "2020-01-01T00:00:00Z",
                                                           "end_exclusive": "2040-01-01T00:00:00Z"}
    return doc


def _not_a_key() -> dict[str, str]:
    key = b"valid base64, not a key"
    return {"key": base64.b64encode(key).decode(), "log_id": base64.b64encode(hashlib.sha256(key).digest()).decode()}


LOG = ("operators", 0, "logs", 0)
# (where in the document, new value, what the message must say)
CT_MUTATIONS: list[tuple[tuple[str | int, ...], object, tuple[str, ...]]] = [
    (("operators",), "abc", ("operators", "array")),
    (("operators",), {"a": 1}, ("operators", "array")),
    (("operators",), None, ("operators",)),
    (("operators", 0), "op", ("operators[0]", "object")),
    (("operators", 0, "name"), 5, ("operators[0].name",)),
    (("operators", 0, "logs"), {"x": 1}, ("operators[0].logs", "array")),
    ((*LOG,), 5, ("operators[0].logs[0]", "object")),
    ((*LOG, "state"), "usable", ("operators[0].logs[0].state", "'Test Log A'", "object")),
    ((*LOG, "state"), ["usable"], ("operators[0].logs[0].state", "object")),
    ((*LOG, "state"), {"usable": {}, "retired": {}}, ("state", "exactly one state")),
    ((*LOG, "state"), {"usable": "yes"}, ("state.usable", "object")),
    ((*LOG, "state", "usable", "timestamp"), 1700000000, ("state.usable.timestamp", "time")),
    ((*LOG, "state", "usable", "timestamp"), "0001-01-01T00:00:00+01:00", ("state.usable.timestamp",)),
    ((*LOG, "temporal_interval"), 5, ("temporal_interval", "object")),
    ((*LOG, "temporal_interval"), "x", ("temporal_interval", "object")),  # silently accepted before
    ((*LOG, "temporal_interval", "start_inclusive"), 5, ("temporal_interval.start_inclusive",)),
    ((*LOG, "temporal_interval", "end_exclusive"), "yesterday", ("temporal_interval.end_exclusive",)),
    ((*LOG, "temporal_interval", "end_exclusive"), "9999-12-31T23:59:59-01:00", ("end_exclusive",)),
    ((*LOG, "key"), 5, ("operators[0].logs[0].key", "base64")),
    ((*LOG, "key"), "%%%", ("operators[0].logs[0].key", "base64")),
    ((*LOG, "key"), "ключ", ("operators[0].logs[0].key", "base64")),
    ((*LOG, "log_id"), None, ("operators[0].logs[0].log_id",)),
    ((*LOG, "description"), ["x"], ("operators[0].logs[0].description",)),
    (("log_list_timestamp",), 1700000000, ("log_list_timestamp", "time")),
    (("log_list_timestamp",), "0001-01-01T00:00:00+01:00", ("log_list_timestamp",)),  # OverflowError before
    (("log_list_timestamp",), None, ("log_list_timestamp",)),
    (("version",), {"v": 1}, ("version",)),
]


def mutate(doc: dict[str, Any], where: tuple[str | int, ...], value: object) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node: Any = out
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    return out


@pytest.mark.parametrize(("where", "value", "needles"), CT_MUTATIONS,
                         ids=[".".join(map(str, w)) + "=" + repr(v)[:20] for w, v, _ in CT_MUTATIONS])
def test_ct_log_list_wrong_shapes_are_data_errors(real_list: dict[str, Any], where: tuple[str | int, ...],
                                                  value: object, needles: tuple[str, ...]) -> None:
    raw = json.dumps(mutate(real_list, where, value)).encode()
    with pytest.raises(DataError) as e:
        CTLogList.from_json(raw, "lists/ct.json")
    assert e.value.source == "lists/ct.json"
    for needle in needles:
        assert needle in e.value.message, (needle, e.value.message)


def test_ct_log_list_key_that_is_base64_but_not_a_key(real_list: dict[str, Any]) -> None:
    doc = copy.deepcopy(real_list)
    doc["operators"][0]["logs"][0].update(_not_a_key())
    with pytest.raises(DataError, match=r"operators\[0\]\.logs\[0\]\.key \(log 'Test Log A'\): not a public key"):
        CTLogList.from_json(json.dumps(doc).encode(), "ct.json")


@pytest.mark.parametrize(("raw", "needle"), [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),  # RecursionError before
    (b'{"operators": [], "x": ' + b"1" * 5000 + b"}", "not JSON"),
    (b"\xff\xfe not json", "not JSON"),
    (b"[]", "the document: must be a JSON object"),
    (b'"text"', "the document"),
    (b"{}", "operators"),
])
def test_ct_log_list_not_json_or_not_an_object(raw: bytes, needle: str) -> None:
    with pytest.raises(DataError, match=needle) as e:
        CTLogList.from_json(raw, "ct.json")
    assert e.value.source == "ct.json"


def test_ct_log_list_too_large() -> None:
    with pytest.raises(DataError, match="larger than 8 MiB"):
        CTLogList.from_json(b" " * (8 << 20) + b"{}", "ct.json")


def test_ct_log_list_valid_still_loads(real_list: dict[str, Any]) -> None:
    # negative control for the mutations above
    lst = CTLogList.from_json(json.dumps(real_list).encode(), "ct.json")
    assert [(log.description, log.rfc6962) for log in lst.logs] == [("Test Log A", True), ("Test Log B", False)]
    assert lst.logs[0].interval_start is not None and lst.logs[0].state == "usable"


@pytest.mark.parametrize(("where", "value"), [
    (("operators",), "abc"),
    ((*LOG, "state"), ["usable"]),
    (("log_list_timestamp",), "0001-01-01T00:00:00+01:00"),
    ((*LOG, "temporal_interval"), "x"),
])
def test_ct_log_list_errors_through_the_cli(run_cli: Runner, tmp_path: Path, real_list: dict[str, Any],
                                            where: tuple[str | int, ...], value: object) -> None:
    f = tmp_path / "ct.json"
    f.write_text(json.dumps(mutate(real_list, where, value)))
    assert_data_error(check(run_cli, "--ct-logs", f), str(f), str(where[-1]))


def test_ct_log_list_deep_json_through_the_cli(run_cli: Runner, tmp_path: Path) -> None:
    f = tmp_path / "ct.json"
    f.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert_data_error(check(run_cli, "--ct-logs", f), str(f), "nested too deeply")


# ---- write_atomic and describe_os_error -------------------------------------------------------------------------

def test_write_atomic_fsyncs_the_directory_after_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_replace, real_fsync = os.replace, os.fsync

    def replace(src: Any, dst: Any) -> None:
        events.append("replace")
        real_replace(src, dst)

    def fsync(fd: int) -> None:
        events.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "settings.json"
    files.write_atomic(target, b"new")
    assert events == ["fsync file", "replace", "fsync dir"]
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temporary file left


@pytest.mark.parametrize("refusal", [errno.EINVAL, errno.EBADF, errno.EACCES])
def test_write_atomic_where_the_platform_refuses_a_directory_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   refusal: int) -> None:
    real_fsync, real_open = os.fsync, os.open

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(refusal, os.strerror(refusal))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    files.write_atomic(tmp_path / "a", b"1")
    assert (tmp_path / "a").read_bytes() == b"1"

    def open_(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        if Path(path) == tmp_path:  # Windows: a directory cannot be opened
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", open_)
    files.write_atomic(tmp_path / "b", b"2")
    assert (tmp_path / "b").read_bytes() == b"2"


def test_write_atomic_a_real_directory_fsync_failure_is_not_hidden(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="Input/output error") as e:
        files.write_atomic(tmp_path / "a", b"1")
    assert e.value.errno == errno.EIO and str(tmp_path / "a") in str(e.value)


@pytest.mark.parametrize(("code", "words", "kind"), [
    (errno.ENOSPC, "disk full", OSError),
    (errno.EDQUOT, "disk full", OSError),
    (errno.EROFS, "read-only file system", OSError),
    (errno.EACCES, "permission denied", PermissionError),
])
def test_write_atomic_failures_name_the_path_in_plain_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            code: int, words: str, kind: type[OSError]) -> None:
    target = tmp_path / "api.json"
    target.write_bytes(b"old")

    def fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError) as e:
        files.write_atomic(target, b"new")
    assert str(e.value) == f"{target}: {words}"
    assert e.value.errno == code and isinstance(e.value, kind)
    assert target.read_bytes() == b"old"  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["api.json"]  # and the temporary file is gone


def test_write_atomic_into_a_missing_directory_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "x.json"
    with pytest.raises(FileNotFoundError) as e:
        files.write_atomic(target, b"x")
    assert str(e.value).startswith(f"{target}: ")


@pytest.mark.parametrize(("code", "words"), [
    (errno.ENOSPC, "disk full"), (errno.EDQUOT, "disk full"), (errno.EROFS, "read-only file system"),
    (errno.EACCES, "permission denied"), (errno.EPERM, "permission denied"),
    (errno.EIO, os.strerror(errno.EIO)),
])
def test_describe_os_error(code: int, words: str) -> None:
    assert files.describe_os_error(OSError(code, os.strerror(code)), Path("/d/f")) == f"/d/f: {words}"


def test_describe_os_error_without_errno() -> None:
    assert files.describe_os_error(OSError("odd"), "/d/f") == "/d/f: odd"


@pytest.mark.parametrize("args", [["inspect", "/dev/zero", "--host", "a.test"],
                                  ["inspect", "CHAIN", "--host", "a.test", "--ct-logs", "/dev/zero"],
                                  ["inspect", "CHAIN", "--host", "a.test", "--ca-bundle", "/dev/zero"]])
def test_an_endless_file_is_refused_after_a_bounded_read(run_cli: Any, tmp_path: Path, args: list[str]) -> None:
    """/dev/zero as a chain, a CT list or a CA bundle: one line, exit 2, never a hang or a memory blow-up."""
    chain = tmp_path / "c.pem"
    chain.write_bytes(pki.pem(pki.root("X").cert))
    res = run_cli(*[str(chain) if a == "CHAIN" else a for a in args], "--no-device-store")
    assert res.exit_code == 2 and res.stderr.startswith("certguard: error: /dev/zero: larger than")
    assert "Traceback" not in res.output + res.stderr
