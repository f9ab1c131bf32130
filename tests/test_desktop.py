"""`certguard ui`: a real pywebview (Qt WebEngine) window, offscreen, on a running daemon and on one it starts
in-process; the browser fallback; the clear message when no window can be opened.

The screenshots are judged by their pixels: the verdict card's background colour says which verdict was rendered
(green for safe, red for intercepted), so a blank or wrong window fails.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pki
import pytest
from conftest import ARTIFACTS, require
from test_daemon import running, watch_args

HOST = "mail.example.org"
OK_BG, BAD_BG = (0xDA, 0xFB, 0xE1), (0xFF, 0xEB, 0xE9)  # --ok-bg and --bad-bg in ui/style.css


def gui_installed() -> bool:
    try:
        import webview  # noqa: F401
        from PyQt6 import QtWebEngineWidgets  # noqa: F401
    except ImportError:
        return False
    return True


def ui(*args: str, env: dict[str, str] | None = None, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM",
                                                                "DBUS_SESSION_BUS_ADDRESS")}
    return subprocess.run([sys.executable, "-m", "certguard", "ui", *args], capture_output=True, text=True,
                          env=environ | (env or {}), timeout=timeout, check=False)


def colour_share(png: Path) -> dict[tuple[int, int, int], float]:
    from PyQt6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 640 and image.height() >= 480, png
    counts: dict[tuple[int, int, int], int] = {}
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            c = image.pixelColor(x, y)
            key = (c.red(), c.green(), c.blue())
            counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()}


OFFSCREEN = {"QT_QPA_PLATFORM": "offscreen", "QTWEBENGINE_DISABLE_SANDBOX": "1"}


@contextlib.contextmanager
def xvfb() -> Iterator[dict[str, str]]:
    """A private X server (unix socket only) for a real X11 window; stopped by its PID."""
    require("Xvfb", shutil.which("Xvfb") is not None)
    read, write = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 20)
        assert ready, "Xvfb did not start"
        display = os.read(read, 16).decode().strip()
        yield {"DISPLAY": f":{display}", "QTWEBENGINE_DISABLE_SANDBOX": "1"}
    finally:
        os.close(read)
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("screen", ["offscreen", "xvfb"])
def test_window_on_a_running_daemon_shows_safe(tmp_path: Path, public_issuing: pki.CA, serve: Callable[..., Any],
                                               ca_bundle: Path, screen: str) -> None:
    require("pywebview with Qt (the gui extra)", gui_installed())
    genuine = public_issuing.leaf(HOST)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    data = tmp_path / "data"
    with running(data, "--interval", "3600", *watch_args(tmp_path, HOST, good, ca_bundle)) as d:
        d.wait_for(lambda s: s["checked_at"] is not None)
        ARTIFACTS.mkdir(exist_ok=True)
        png = ARTIFACTS / f"window-safe-{screen}.png"
        png.unlink(missing_ok=True)
        with contextlib.ExitStack() as stack:
            env = OFFSCREEN if screen == "offscreen" else stack.enter_context(xvfb())
            out = ui("--data-dir", str(data), "--screenshot", str(png), env=env)
        assert out.returncode == 0, out.stderr
        share = colour_share(png)
        assert share.get(OK_BG, 0) > 0.05, "the green 'safe' card is on screen"
        assert share.get(BAD_BG, 0) == 0
        assert d.token not in out.stdout + out.stderr
        assert (data / "api.json").exists(), "the window leaves the running daemon alone"


def test_window_starts_a_daemon_in_process_and_shows_interception(tmp_path: Path, serve: Callable[..., Any],
                                                                  ca_bundle: Path) -> None:
    require("pywebview with Qt (the gui extra)", gui_installed())
    qaznet = pki.root("Qaznet Trust Network", c="KZ")
    forged = qaznet.leaf(HOST)
    evil = serve("tls", [forged.cert], forged.key)
    ARTIFACTS.mkdir(exist_ok=True)
    # The user answered (settings.json): the window's daemon checks, and shows the interception.
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text('{"consent": "continue"}')
    png = ARTIFACTS / "window-intercepted.png"
    png.unlink(missing_ok=True)
    out = ui("--data-dir", str(data), *watch_args(tmp_path, HOST, evil, ca_bundle), "--lang", "kk",
             "--screenshot", str(png), env=OFFSCREEN)
    assert out.returncode == 0, out.stderr
    share = colour_share(png)
    assert share.get(BAD_BG, 0) > 0.05, "the red 'intercepted' card is on screen"
    assert share.get(OK_BG, 0) == 0
    token = (data / "api.token").read_text()
    assert token not in out.stdout + out.stderr
    assert not (data / "api.json").exists(), "closing the window stopped the in-process daemon"
    # Control (after: the loopback server lives 30 s at most, and probing nothing needs none): first run, nothing
    # answered yet: the window's daemon probes nothing before the consent notice is answered.
    waiting = tmp_path / "first-run"
    png = ARTIFACTS / "window-first-run.png"
    out = ui("--data-dir", str(waiting), *watch_args(tmp_path, HOST, evil, ca_bundle), "--screenshot", str(png),
             env=OFFSCREEN)
    assert out.returncode == 0, out.stderr
    assert colour_share(png).get(BAD_BG, 0) == 0, "no verdict before the answer"
    with sqlite3.connect(waiting / "history.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 0, "no site was probed"
    db.close()


def test_no_window_possible_says_so_and_points_to_the_browser(tmp_path: Path) -> None:
    out = ui("--data-dir", str(tmp_path / "data"), env={"LANG": "C"})
    assert out.returncode == 2
    assert "no screen" in out.stderr and "certguard ui --browser" in out.stderr
    assert not (tmp_path / "data" / "api.json").exists(), "nothing was started"


def test_without_the_gui_extra_says_how_to_install_it(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked" / "webview"
    blocked.mkdir(parents=True)  # shadows the installed pywebview, as if the extra were not installed
    (blocked / "__init__.py").write_text("raise ImportError('not installed', name='webview')\n")
    out = ui("--data-dir", str(tmp_path / "data"), env={"LANG": "C", "QT_QPA_PLATFORM": "offscreen",
                                                        "PYTHONPATH": str(blocked.parent)})
    assert out.returncode == 2, out.stderr
    assert "pip install 'certguard[gui]'" in out.stderr and "certguard ui --browser" in out.stderr


def test_a_display_without_an_x_server_is_a_clear_error_not_a_qt_abort(tmp_path: Path) -> None:
    require("pywebview with Qt (the gui extra)", gui_installed())
    out = ui("--data-dir", str(tmp_path / "data"), env={"LANG": "C", "DISPLAY": ":4242"})  # nobody listens there
    assert out.returncode == 2, out.stderr
    assert "Qt cannot open a window here" in out.stderr and "certguard ui --browser" in out.stderr
    assert not (tmp_path / "data" / "api.json").exists()


def test_browser_gets_a_one_time_login_link(tmp_path: Path, public_issuing: pki.CA, serve: Callable[..., Any],
                                            ca_bundle: Path) -> None:
    genuine = public_issuing.leaf(HOST)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    data = tmp_path / "data"
    opened = tmp_path / "opened.txt"
    fake_browser = tmp_path / "browser.sh"  # webbrowser honours $BROWSER: record what it was asked to open
    fake_browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    fake_browser.chmod(0o755)
    with running(data, "--interval", "3600", *watch_args(tmp_path, HOST, good, ca_bundle)) as d:
        out = ui("--data-dir", str(data), "--browser", env={"BROWSER": f"{fake_browser} %s"})
        assert out.returncode == 0, out.stderr
        url = opened.read_text()
        assert url.startswith(f"http://127.0.0.1:{d.port}/login?code=") and d.token not in url

        def login(u: str) -> tuple[int, str | None]:
            conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
            conn.request("GET", u.split(str(d.port), 1)[1])
            resp = conn.getresponse()
            resp.read()
            conn.close()
            return resp.status, resp.getheader("Set-Cookie")

        status, cookie = login(url)
        assert status == 303 and cookie is not None and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert login(url) == (403, None), "the second use is refused"


def test_print_url_serves_in_process_until_stopped(tmp_path: Path, public_issuing: pki.CA,
                                                   serve: Callable[..., Any], ca_bundle: Path) -> None:
    genuine = public_issuing.leaf(HOST)
    good = serve("tls", [genuine.cert, public_issuing.cert], genuine.key)
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "certguard", "ui", "--print-url", "--data-dir", str(data),
                             *watch_args(tmp_path, HOST, good, ca_bundle)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert "/login?code=" in url
        port = int(url.split(":")[2].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", url.split(str(port), 1)[1])
        assert conn.getresponse().status == 303
        conn.close()
        assert (data / "api.json").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()  # do not leave it behind for the next test to trip over
            proc.communicate(timeout=5)
            raise
    assert proc.returncode == 0, err
    assert not (data / "api.json").exists()
    assert (data / "api.token").read_text() not in out + err


def test_ui_refuses_an_unknown_language(tmp_path: Path) -> None:
    out = ui("--print-url", "--data-dir", str(tmp_path), "--lang", "xx")
    assert out.returncode == 2 and "'xx' is not one of 'en', 'fr', 'ru', 'kk'" in out.stderr
    assert not (tmp_path / "api.json").exists()
    helptext = ui("--help").stdout
    assert "--browser" in helptext and "en|fr|ru|kk" in helptext
