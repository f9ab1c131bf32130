"""Installing the daemon as a per-user service: a systemd user unit (Linux), a launchd agent (macOS) or a
scheduled task at logon (Windows). The files are generated here and only written by ``install``."""

from __future__ import annotations

import os
import platform
import plistlib
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from certguard.errors import ConfigError

UNIT_NAME = "certguard.service"
LAUNCHD_LABEL = "org.certguard.daemon"
TASK_NAME = "certguard daemon"


def daemon_argv(data_dir: Path | None) -> list[str]:
    argv = [sys.executable, "-m", "certguard", "daemon", "run"]
    return argv + (["--data-dir", str(data_dir)] if data_dir else [])


def systemd_unit(argv: list[str]) -> str:
    # Hardening that costs nothing for a prober that only needs the network and its data dir.
    return f"""[Unit]
Description=certguard: watch for TLS interception
Documentation=https://github.com/certguard/certguard
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart={shlex.join(argv)}
Restart=on-failure
RestartSec=30
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ReadWritePaths=%h
LockPersonality=yes
MemoryMax=256M
# glibc gives each thread (probe resolver, API workers) its own malloc arena; two are plenty for a prober and keep
# a 1,000-site daemon's RSS near 87 MiB instead of ~130 (bench/run.py, daemon row)
Environment=MALLOC_ARENA_MAX=2
Nice=10

[Install]
WantedBy=default.target
"""


def launchd_plist(argv: list[str], log_dir: Path) -> bytes:
    return plistlib.dumps({
        "Label": LAUNCHD_LABEL, "ProgramArguments": argv, "RunAtLoad": True, "KeepAlive": {"SuccessfulExit": False},
        "ProcessType": "Background", "StandardOutPath": str(log_dir / "daemon.log"),
        "StandardErrorPath": str(log_dir / "daemon.log")})


def schtasks_command(argv: list[str]) -> list[str]:
    return ["schtasks", "/Create", "/F", "/SC", "ONLOGON", "/RL", "LIMITED", "/TN", TASK_NAME,
            "/TR", subprocess.list2cmdline(argv)]


@dataclass(frozen=True)
class Plan:
    system: str
    path: Path | None  # the file written (None on Windows: the task lives in the scheduler)
    content: bytes
    enable: list[list[str]]  # commands run after writing
    disable: list[list[str]]


def plan(system: str, home: Path, data_dir: Path | None) -> Plan:
    argv = daemon_argv(data_dir)
    if system == "Linux":
        path = home / ".config/systemd/user" / UNIT_NAME
        return Plan(system, path, systemd_unit(argv).encode(),
                    [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", UNIT_NAME]],
                    [["systemctl", "--user", "disable", "--now", UNIT_NAME]])
    if system == "Darwin":
        path = home / "Library/LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
        return Plan(system, path, launchd_plist(argv, home / "Library/Logs"), [["launchctl", "load", "-w", str(path)]],
                    [["launchctl", "unload", "-w", str(path)]])
    if system == "Windows":
        return Plan(system, None, b"", [schtasks_command(argv)], [["schtasks", "/Delete", "/F", "/TN", TASK_NAME]])
    raise ConfigError(f"certguard cannot install a service on {system!r}: run 'certguard daemon run' from your "
                      "own service manager instead", key="error.service.unsupported", system=system)


def verify_unit(path: Path) -> tuple[bool, str]:
    """``systemd-analyze verify`` when available (it checks syntax and that ExecStart exists)."""
    if not shutil.which("systemd-analyze"):
        return True, "systemd-analyze not available: not verified"
    with tempfile.TemporaryDirectory() as runtime:
        # --user needs a runtime directory; outside a login session (root shell, CI) there is none.
        env = os.environ | ({} if os.environ.get("XDG_RUNTIME_DIR") else {"XDG_RUNTIME_DIR": runtime})
        proc = subprocess.run(["systemd-analyze", "--user", "verify", str(path)],  # noqa: S603,S607
                              capture_output=True, text=True, timeout=60, check=False, env=env)
    return proc.returncode == 0, (proc.stderr + proc.stdout).strip()


def run_all(commands: list[list[str]]) -> list[str]:
    """Run commands in order; returns messages for those that could not run (no systemd user session, …)."""
    failures = []
    for cmd in commands:
        if not shutil.which(cmd[0]):
            failures.append(f"{cmd[0]} not found: run '{shlex.join(cmd)}' yourself")
            continue
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
        if proc.returncode != 0:
            failures.append(f"'{shlex.join(cmd)}' failed: {(proc.stderr or proc.stdout).strip()}")
    return failures


def current_system() -> str:
    return platform.system()
