"""Run mitmproxy (from its own venv, .venv-mitm) as a real interceptor on loopback. Stops by itself."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pki

ROOT = Path(__file__).resolve().parents[1]
MITMDUMP = Path(os.environ.get("CERTGUARD_MITMDUMP", ROOT / ".venv-mitm" / "bin" / "mitmdump"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mitmdump:
    """``mitmdump --mode reverse:https://127.0.0.1:UP`` with our own CA (e.g. one imitating Qaznet)."""

    def __init__(self, ca: pki.CA, confdir: Path, upstream_port: int, upstream_root: Path) -> None:
        confdir.mkdir(parents=True, exist_ok=True)
        # mitmproxy reads key + cert from one PEM file; it is written at run time and never committed.
        ca_file = confdir / "mitmproxy-ca.pem"
        ca_file.write_bytes(pki.key_pem(ca.key) + pki.pem(ca.cert))
        ca_file.chmod(0o600)
        self.port = free_port()
        self.args = [
            str(MITMDUMP), "--mode", f"reverse:https://127.0.0.1:{upstream_port}",
            "--listen-host", "127.0.0.1", "--listen-port", str(self.port),
            "--set", f"confdir={confdir}", "--set", f"ssl_verify_upstream_trusted_ca={upstream_root}",
            "--set", "connection_strategy=lazy", "-q",
        ]
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = confdir / "mitmdump.log"

    def __enter__(self) -> Mitmdump:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mitmdump exited: {self.log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("mitmdump did not start listening within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # our own child, by its handle
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
