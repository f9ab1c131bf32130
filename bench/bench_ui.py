"""Benchmarks (not tests) for the UI: how fast the status API answers with 40 sites, how long Chromium takes from
the one-time login link to a rendered verdict, how long a check takes to appear live, and how long the pywebview
window takes to open and render. Run: .venv/bin/python bench/bench_ui.py [--runs 5]

Loopback only: one TLS server on 127.0.0.1 stands in for 40 sites (--connect-to); every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import pki
import servers
from conftest import CHROMIUM, CHROMIUM_ARGS
from playwright.sync_api import sync_playwright

SITES = 40


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certguard", *args], capture_output=True, text=True, timeout=120,
                          check=True, env=os.environ | (env or {}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    root = pki.root("Bench Root")
    issuing = root.child_ca("Bench Issuing CA")
    names = [f"s{i}.test" for i in range(SITES)]
    leaf = issuing.leaf(*names)
    with tempfile.TemporaryDirectory() as tmp, servers.Server("tls", [leaf.cert, issuing.cert], leaf.key) as srv:
        d = Path(tmp)
        (d / "roots.pem").write_bytes(pki.pem(root.cert))
        (d / "sites.txt").write_text("\n".join(names) + "\n")
        overrides = [a for n in names for a in ("--connect-to", f"{n}:443:127.0.0.1:{srv.port}")]
        data = d / "data"
        proc = subprocess.Popen([sys.executable, "-m", "certguard", "daemon", "run", "--data-dir", str(data),
                                 "--interval", "3600", "--sites", str(d / "sites.txt"), "--ca-bundle",
                                 str(d / "roots.pem"), "--no-device-store", *overrides],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not (data / "api.json").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            port = int(json.loads((data / "api.json").read_text())["url"].rsplit(":", 1)[1])
            token = (data / "api.token").read_text()

            def status() -> tuple[float, bytes]:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                started = time.perf_counter()
                conn.request("GET", "/api/status", headers={"Authorization": f"Bearer {token}"})
                body = conn.getresponse().read()
                conn.close()
                return time.perf_counter() - started, body

            while time.monotonic() < deadline and json.loads(status()[1])["checked_at"] is None:
                time.sleep(0.1)
            samples = [status() for _ in range(50)]
            print(f"/api/status with {SITES} sites: {len(samples[0][1]) / 1024:.0f} KiB, median "
                  f"{statistics.median(s[0] for s in samples) * 1000:.1f} ms over 50 requests")

            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                to_verdict, to_live = [], []
                for _ in range(runs):
                    url = cli("ui", "--print-url", "--data-dir", str(data)).stdout.strip()
                    page = browser.new_page()
                    started = time.perf_counter()
                    page.goto(url)
                    page.wait_for_selector("html[data-ready='1']")
                    to_verdict.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    page.click("#check-now")  # disables the button; the page re-renders it when the result is in
                    page.wait_for_selector("#check-now:not([disabled])", timeout=60000)
                    to_live.append(time.perf_counter() - started)
                    page.close()
                browser.close()
            print(f"Chromium, login link to rendered verdict: median {statistics.median(to_verdict) * 1000:.0f} ms "
                  f"over {runs} runs")
            print(f"'Check now' of {SITES} sites to the new result on screen (event stream): median "
                  f"{statistics.median(to_live) * 1000:.0f} ms over {runs} runs")

            window = []
            for i in range(min(runs, 3)):
                started = time.perf_counter()
                cli("ui", "--data-dir", str(data), "--screenshot", str(d / f"w{i}.png"),
                    env={"QT_QPA_PLATFORM": "offscreen", "QTWEBENGINE_DISABLE_SANDBOX": "1"})
                window.append(time.perf_counter() - started)
            print(f"pywebview window (offscreen), command start to verdict screenshot and close: median "
                  f"{statistics.median(window):.1f} s over {len(window)} runs")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
