"""The native-messaging host end to end over pipes: ``python -m certguard native-host`` in a subprocess, fed the
browsers' framing (32-bit native-endian length + UTF-8 JSON), including malformed, oversized, truncated, stalled and
interleaved input; chains judged in-process and by a running daemon, against loopback servers."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import queue
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pki
import pytest
from conftest import spki_of, write_intel
from test_daemon import running
from test_ui import login_url

from certguard import __version__

HOST = "localhost"  # /etc/hosts: the probe reaches the loopback server without any resolver


def frame(doc: Any) -> bytes:
    body = json.dumps(doc).encode()
    return struct.pack("=I", len(body)) + body


def frames(data: bytes) -> list[dict[str, Any]]:
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack("=I", data[i:i + 4])
        out.append(json.loads(data[i + 4:i + 4 + n].decode("utf-8")))
        i += 4 + n
    assert i == len(data), "stdout must hold nothing but frames"
    return out


def host_cmd(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "certguard", "native-host", "--data-dir", str(data), *args,
            "chrome-extension://deooegofohhmjkajcenefblpfhmbbdll/"]


def converse(data: Path, payload: bytes, *args: str, timeout: float = 60) -> tuple[list[dict[str, Any]], int, str]:
    proc = subprocess.run(host_cmd(data, *args), input=payload, capture_output=True, timeout=timeout, check=False)
    stderr = proc.stderr.decode(errors="replace")
    assert "Traceback" not in stderr
    return frames(proc.stdout), proc.returncode, stderr


class Session:
    """A host process fed piece by piece, its answers read as they come (bounded waits everywhere)."""

    def __init__(self, data: Path, *args: str) -> None:
        self.proc = subprocess.Popen(host_cmd(data, *args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while (head := self.proc.stdout.read(4)) and len(head) == 4:
            (n,) = struct.unpack("=I", head)
            self.answers.put(json.loads(self.proc.stdout.read(n)))
        self.answers.put(None)

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def answer(self, timeout: float = 30) -> dict[str, Any] | None:
        return self.answers.get(timeout=timeout)

    def close(self) -> int:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        assert self.proc.stderr is not None
        assert b"Traceback" not in self.proc.stderr.read()
        return code

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Callable[..., Session]]:
    started: list[Session] = []

    def start(*args: str) -> Session:
        s = Session(tmp_path / "data", "--no-device-store", *args)
        started.append(s)
        return s
    yield start
    for s in started:
        s.release()


def test_ping_and_broken_messages_each_get_an_error_and_the_session_goes_on(tmp_path: Path) -> None:
    payload = b"".join([
        frame({"type": "ping", "lang": "fr"}),
        frame({"type": "launch_missiles"}),
        struct.pack("=I", 5) + b"{bad}",
        frame([1, 2]),
        struct.pack("=I", 4) + b"\xff\xfe\x00\x01",  # not UTF-8
        frame({"type": "judge", "host": HOST, "port": 443}),  # no chain
        frame({"type": "judge", "host": HOST, "chain": ["not base64!"]}),
        frame({"type": "probe", "host": HOST, "port": 0}),
        frame({"type": "probe", "host": "evil host", "port": 443}),
        frame({"type": "probe", "host": HOST, "browser": "../../etc"}),
        struct.pack("=I", 0),  # empty body: not a JSON object
        frame({"type": "ping"}),  # the control: still answered after all of the above
    ])
    answers, code, _ = converse(tmp_path / "data", payload, "--no-device-store")
    assert code == 0
    assert answers[0]["type"] == "pong" and answers[0]["version"] == __version__
    assert answers[0]["texts"]["ui.popup.open_ui"] == "Ouvrir certguard"
    errors = [(a.get("error"), a.get("message")) for a in answers[1:-1]]
    assert [e for e, _ in errors] == ["unknown_type", "malformed", "malformed", "malformed", "bad_request",
                                      "bad_request", "bad_request", "bad_request", "bad_request", "malformed"]
    assert all(a["type"] == "error" and a["message"] for a in answers[1:-1])
    assert "launch_missiles" in str(errors[0][1])
    assert [m for _, m in errors[4:9]] == [f"The message has no valid {f}." for f in
                                          ("chain", "chain", "port", "host", "browser")]
    assert answers[-1]["type"] == "pong"


def test_messages_split_and_joined_across_writes_are_framed_right(session: Callable[..., Session]) -> None:
    s = session()
    two = frame({"type": "ping"}) + frame({"type": "nope"})
    s.send(two[:2])  # half a length
    time.sleep(0.2)
    s.send(two[2:9])  # the rest of the length and part of the body
    time.sleep(0.2)
    s.send(two[9:])  # the rest, and the whole second message in the same write
    first, second = s.answer(), s.answer()
    assert first is not None and first["type"] == "pong"
    assert second is not None and second["error"] == "unknown_type"
    assert s.close() == 0


def test_oversized_message_is_refused_at_once_without_reading_it(session: Callable[..., Session],
                                                                 tmp_path: Path) -> None:
    s = session()
    started = time.monotonic()
    s.send(struct.pack("=I", (1 << 20) + 1) + b"{")  # and then nothing: the host must not wait for 1 MiB
    answer = s.answer(timeout=10)
    assert answer is not None and answer["error"] == "too_large"
    assert time.monotonic() - started < 10
    assert s.answer() is None and s.close() == 2
    # Control: exactly 1 MiB is allowed.
    pad = "x" * ((1 << 20) - len(json.dumps({"type": "ping", "pad": ""})))
    body = json.dumps({"type": "ping", "pad": pad}).encode()
    assert len(body) == 1 << 20
    answers, code, _ = converse(tmp_path / "data", struct.pack("=I", len(body)) + body, "--no-device-store")
    assert [a["type"] for a in answers] == ["pong"] and code == 0


def test_truncated_messages_end_the_session_with_an_error(tmp_path: Path) -> None:
    answers, code, _ = converse(tmp_path / "d", frame({"type": "ping"}) + struct.pack("=I", 100) + b'{"type"')
    assert [a.get("error") for a in answers] == [None, "truncated"] and code == 2
    answers, code, _ = converse(tmp_path / "d", b"\x10\x00")  # half a length
    assert [a.get("error") for a in answers] == ["truncated"] and code == 2
    answers, code, _ = converse(tmp_path / "d", b"")  # the browser closed at once: a clean end
    assert answers == [] and code == 0


def test_a_stalled_writer_gets_a_timeout_not_a_hang(session: Callable[..., Session]) -> None:
    s = session("--message-timeout", "1")
    s.send(struct.pack("=I", 100) + b'{"type":')
    started = time.monotonic()
    answer = s.answer(timeout=15)
    assert answer is not None and answer["error"] == "timeout"
    assert 0.9 < time.monotonic() - started < 10
    assert s.close() == 2
    # an idle host (no message started) leaves quietly
    idle = session("--idle-timeout", "0.5")
    assert idle.answer(timeout=15) is None and idle.proc.wait(timeout=10) == 0


# ---- judging -------------------------------------------------------------------------------------------------------

def b64(cert: Any) -> str:
    return base64.b64encode(pki.der(cert)).decode()


@pytest.fixture
def antivirus(tmp_path: Path) -> tuple[pki.CA, Path]:
    av = pki.root("Test Antivirus Web Shield Root", "Test Antivirus Ltd", "CZ")
    return av, write_intel(tmp_path / "intel.toml", "avtest", "antivirus", spki_of(av))


def test_judge_in_process_names_the_interceptor_only_the_browser_sees(
        tmp_path: Path, public_issuing: pki.CA, ca_bundle: Path, antivirus: tuple[pki.CA, Path],
        serve: Callable[..., Any]) -> None:
    av, intel = antivirus
    genuine = public_issuing.leaf(HOST)
    server = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)  # what the network serves
    forged = av.leaf(HOST)  # what an antivirus hands the browser alone
    args = ("--ca-bundle", str(ca_bundle), "--intel", str(intel), "--no-device-store", "--timeout", "3")
    judge = {"type": "judge", "host": HOST, "port": server.port, "browser": "firefox"}
    answers, code, _ = converse(tmp_path / "data", frame(judge | {"chain": [b64(forged.cert), b64(av.cert)]})
                                + frame(judge | {"chain": [b64(genuine.cert), b64(public_issuing.cert)]}), *args)
    assert code == 0
    seen, control = answers
    assert seen["type"] == "verdict"
    r = seen["result"]
    assert r["status"] == "intercepted" and r["interceptor"]["id"] == "avtest" and r["source"] == "browser:firefox"
    assert r["advice"] and {f["id"] for f in r["findings"]} >= {"KNOWN_INTERCEPTOR"}
    assert r["chain"][0]["sha256"] and r["host"] == HOST and r["port"] == server.port
    assert seen["probe"]["status"] == "ok" and seen["probe"]["source"] == "probe"
    diff = seen["difference"]
    assert diff["id"] == "BROWSER_PROBE_DIFFER" and diff["severity"] == "critical"
    assert "Test Antivirus Web Shield Root" in diff["evidence"]["browser_issuer"]
    assert "between the browser and the network on this computer" in diff["message"]
    # the negative control: the browser saw what certguard saw
    assert control["result"]["status"] == "ok" and control["difference"] is None
    # one probe for both (cached per host), and a new process reuses it too (the browsers start one per message)
    assert server.connections == 1
    again, _, _ = converse(tmp_path / "data", frame(judge | {"chain": [b64(forged.cert)]}), *args)
    assert again[0]["difference"]["id"] == "BROWSER_PROBE_DIFFER" and server.connections == 1


def test_probe_request_for_browsers_without_a_certificate_api(
        tmp_path: Path, public_issuing: pki.CA, ca_bundle: Path, antivirus: tuple[pki.CA, Path],
        serve: Callable[..., Any]) -> None:
    av, intel = antivirus
    forged, genuine = av.leaf(HOST), public_issuing.leaf(HOST)
    evil = serve("tls", [forged.cert, av.cert], forged.key)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    args = ("--ca-bundle", str(ca_bundle), "--intel", str(intel), "--no-device-store", "--timeout", "3")
    answers, _, _ = converse(tmp_path / "data", frame({"type": "probe", "host": HOST, "port": evil.port})
                             + frame({"type": "probe", "host": HOST, "port": good.port, "lang": "kk"}), *args)
    assert answers[0]["result"]["status"] == "intercepted" and answers[0]["result"]["source"] == "probe"
    assert answers[0]["result"]["interceptor"]["id"] == "avtest" and answers[0]["difference"] is None
    assert answers[1]["result"]["status"] == "ok"  # control
    assert answers[1]["texts"]["status.ok"] != "Safe"  # Kazakh, as the popup asked


def test_garbage_chain_is_a_verdict_not_a_traceback(tmp_path: Path, ca_bundle: Path) -> None:
    msg = {"type": "judge", "host": HOST, "port": 1, "chain": [base64.b64encode(b"\x30\x03junk").decode()]}
    answers, code, _ = converse(tmp_path / "data", frame(msg), "--ca-bundle", str(ca_bundle),
                                "--no-device-store", "--timeout", "1")
    assert code == 0 and answers[0]["type"] == "verdict"
    assert answers[0]["result"]["status"] != "ok"  # fail closed


def test_judge_is_handed_to_the_running_daemon_and_lands_in_its_history(
        tmp_path: Path, public_issuing: pki.CA, ca_bundle: Path, antivirus: tuple[pki.CA, Path],
        serve: Callable[..., Any], browser: Any) -> None:
    av, intel = antivirus
    genuine, forged = public_issuing.leaf(HOST), av.leaf(HOST)
    server = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    sites = tmp_path / "sites.txt"
    sites.write_text(f"{HOST}:{server.port}\n")
    data = tmp_path / "data"
    with running(data, "--interval", "3600", "--sites", str(sites), "--ca-bundle", str(ca_bundle), "--intel",
                 str(intel), "--no-device-store", "--timeout", "3") as d:
        d.wait_for(lambda s: s["checked_at"] is not None)
        # control: before the browser has said anything, the site view shows no difference
        page = browser.new_page()
        try:
            page.goto(login_url(data))
            page.wait_for_selector("html[data-ready='1']")
            page.goto(f"http://127.0.0.1:{d.port}/#/site/{HOST}/{server.port}")
            page.wait_for_selector("h2 >> nth=1")
            assert page.locator("section.difference").count() == 0
        finally:
            page.close()
        # The host itself judges with no trust options at all: only the daemon knows the test CA and the
        # interceptor, so a verdict naming "avtest" proves the daemon judged it.
        msg = {"type": "judge", "host": HOST, "port": server.port, "browser": "firefox",
               "chain": [b64(forged.cert), b64(av.cert)]}
        answers, code, _ = converse(data, frame(msg), "--no-device-store")
        assert code == 0 and answers[0]["result"]["interceptor"]["id"] == "avtest"
        assert answers[0]["difference"]["id"] == "BROWSER_PROBE_DIFFER"
        rows = d.json(f"/api/history?host={HOST}")["history"]
        assert [r["source"] for r in rows][:2] == ["browser:firefox", "probe"]
        assert rows[0]["status"] == "intercepted" and rows[0]["chain"][0]["sha256"] == \
            answers[0]["result"]["chain"][0]["sha256"]
        assert any(e["culprit"] == "Test avtest" for e in d.json("/api/episodes")["episodes"])
        observed = d.json(f"/api/observed?host={HOST}")["observed"]
        assert observed[0]["difference"]["id"] == "BROWSER_PROBE_DIFFER"
        # ... and the UI's site view says so, in the daemon's words (real Chromium)
        page = browser.new_page()
        try:
            page.goto(login_url(data))
            page.wait_for_selector("html[data-ready='1']")
            page.goto(f"http://127.0.0.1:{d.port}/#/site/{HOST}/{server.port}")
            page.wait_for_selector("section.difference", timeout=15_000)
            assert observed[0]["difference"]["message"] in page.inner_text("section.difference")
        finally:
            page.close()
        # the endpoint refuses what the host would refuse, and needs the token
        status, _, _ = d.request("POST", "/api/observed", body=b'{"host": "x y", "chain": ["AA=="]}',
                                 headers={"Content-Type": "application/json"})
        assert status == 400
        assert d.request("POST", "/api/observed", body=json.dumps(msg).encode(), token=None,
                         headers={"Content-Type": "application/json"})[0] == 401
        assert post_oversized(d.port, d.token, 100_000) == 413
        assert post_oversized(d.port, d.token, 1000) == 200  # control: the size was the reason (a probe of port 1)


def post_oversized(port: int, token: str, size: int) -> int:
    """POST a body of ``size`` bytes; the server may answer (and close) before it has all of it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"host": HOST, "port": 1, "pad": "x" * size}).encode()
    conn.putrequest("POST", "/api/observed")
    for k, v in {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 "Content-Length": str(len(body))}.items():
        conn.putheader(k, v)
    conn.endheaders()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        conn.send(body)
    try:
        return conn.getresponse().status
    finally:
        conn.close()
