"""The desktop window: a thin pywebview (Qt) shell around the UI the daemon serves. No logic lives here.

The window is handed a one-time login URL, never the API token: the page trades the code for an HttpOnly session
cookie and is redirected to ``/``, so the token is in no URL, page or log, and the code is useless once used.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from certguard.errors import CertguardError, FetchError
from certguard.probe import local
from certguard.watch.daemon import read_api_info

log = logging.getLogger(__name__)


class GuiUnavailable(CertguardError):
    """No desktop window can be opened here. ``key`` names the catalog message for the reason (``cli.ui_*``)."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.detail = detail


def login_url(directory: Path, lang: str | None) -> str | None:
    """A fresh one-time login URL from the daemon serving this data directory; None if none answers (not running,
    or a stale api.json and token left by a daemon that was killed)."""
    info = read_api_info(directory)
    try:
        token = (directory / "api.token").read_text(encoding="ascii").strip()
    except OSError:
        return None
    if not info or not isinstance(info.get("url"), str):
        return None
    try:
        status, body = local.local_api(info["url"], "POST", "/api/login-code" + (f"?lang={lang}" if lang else ""),
                                       token)
    except FetchError:
        return None
    return info["url"] + str(json.loads(body)["path"]) if status == 201 else None


def check_gui() -> None:
    """Raises:
        GuiUnavailable: with the reason; the caller suggests ``--browser``.
    """
    try:
        import webview  # noqa: F401
        from PyQt6 import QtWebEngineWidgets  # noqa: F401
    except ImportError as exc:
        raise GuiUnavailable("cli.ui_no_package", str(exc.name)) from exc
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                                                 or os.environ.get("QT_QPA_PLATFORM")):
        raise GuiUnavailable("cli.ui_no_display")
    # Qt aborts the whole process when its platform plugin cannot start (no X server, missing xcb libraries), so
    # try that once in a child process, where a failure becomes a sentence and the offer of --browser.
    probe_qt = "import sys; from PyQt6.QtWidgets import QApplication; QApplication(sys.argv[:1])"
    try:
        proc = subprocess.run([sys.executable, "-c", probe_qt], capture_output=True, text=True, timeout=30,  # noqa: S603
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise GuiUnavailable("cli.ui_qt_failed", "timeout") from exc
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise GuiUnavailable("cli.ui_qt_failed", lines[0] if lines else f"exit code {proc.returncode}")


def open_window(url: str, title: str, screenshot: Path | None = None, ready_timeout: float = 60.0) -> None:
    """Show the UI in a native window; returns when the user closes it.

    With ``screenshot``, wait until the page has rendered a verdict, save the window as PNG and close it (for
    tests and documentation).
    """
    import webview

    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium (inside Qt WebEngine) refuses to start its sandbox as root; running a GUI as root is unusual
        # (containers, live systems), so say so rather than failing with Qt's cryptic message.
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
        log.warning("running as root: the web engine's sandbox is disabled")
    window = webview.create_window(title, url, width=1100, height=780, min_size=(640, 480))
    if window is None:
        raise GuiUnavailable("cli.ui_qt_failed", "pywebview could not create a window")
    func = (lambda: _screenshot(window, screenshot, ready_timeout)) if screenshot else None
    webview.start(func, gui="qt", private_mode=True)


def _screenshot(window: Any, path: Path, ready_timeout: float) -> None:
    """Runs in pywebview's worker thread; the grab itself must happen in Qt's GUI thread."""
    from PyQt6.QtCore import QCoreApplication, QObject, pyqtSignal, pyqtSlot

    class Grabber(QObject):
        request = pyqtSignal(str)

        def __init__(self) -> None:
            super().__init__()
            self.done = threading.Event()
            self.saved = False
            self.request.connect(self.grab)

        @pyqtSlot(str)
        def grab(self, target: str) -> None:
            self.saved = bool(window.native.grab().save(target, "PNG"))
            self.done.set()

    try:
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            # run_js, not evaluate_js: the latter wraps the script in eval(), which the UI's CSP forbids.
            if window.run_js("document.documentElement.dataset.ready || ''") == "1":
                break
            time.sleep(0.2)
        else:
            log.error("the page did not render a verdict within %.0f s", ready_timeout)
        time.sleep(0.5)  # let the last paint land
        app = QCoreApplication.instance()
        if app is None:
            raise GuiUnavailable("cli.ui_qt_failed", "Qt is not running")
        grabber = Grabber()
        grabber.moveToThread(app.thread())  # so the emitted signal is delivered (queued) in the GUI thread
        grabber.request.emit(str(path))
        if not grabber.done.wait(20) or not grabber.saved:
            log.error("could not save the screenshot to %s", path)
    finally:
        window.destroy()
