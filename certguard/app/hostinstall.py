"""Where each browser looks for native-messaging host manifests, and what ``certguard extension install`` writes.

A browser starts a native host only from a manifest it finds in its own per-user place (a folder on Linux and
macOS, a registry key naming the manifest file on Windows). The manifest names an executable without arguments,
so a small launcher script next to it runs ``certguard native-host`` with this Python and this data folder.

The plan is computed without touching anything (tests check every system's paths here); ``apply`` and ``remove``
then write or delete files and, on Windows, the registry value.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from certguard.data.files import write_atomic

HOST_NAME = "org.certguard.companion"
GECKO_ID = "companion@certguard.org"
# The public half of the key in extension/manifest.json (its private half was never kept: an unpacked or
# store-signed extension needs only the public key for a stable id). tests/test_extension.py checks they agree.
EXTENSION_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr/U/4yFsZt6kYB7FsOrLMSfnMQfy4ATYWGMsTW+MMYPH57IdtWckl4O0"
    "+YdJAsG9nAV2VNq0uINDGl7emdY94EQnqPBzjMk/pzYIQshtEaxSFbKGuHkw2SfXWamGtylSOX42wQPKyGgyRSJl78yHEzeHyD7O"
    "mQy/0pUOPPHaWkp5txJYj0Isak+7ElueLjsKYrtoztZ47fqV6Pt8ek2jCsJTfZnjWX9y/AiLqTnEOdbPgxgtw4ViTCI6uqGmciiP"
    "cUZcp6cZInjh/tfDqPRWkUZQR9CzqyuzE2CzQGluKSmGGAJ82n7clFRlLFcChL0nxyTGmL+8NFKvJrZZ25bbQQIDAQAB"
)
BROWSERS = ("firefox", "chromium", "chrome", "brave", "edge")
CHROMIUMS = ("chromium", "chrome", "brave", "edge")

_LINUX = {"firefox": ".mozilla/native-messaging-hosts", "chromium": ".config/chromium/NativeMessagingHosts",
          "chrome": ".config/google-chrome/NativeMessagingHosts",
          "brave": ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
          "edge": ".config/microsoft-edge/NativeMessagingHosts"}
_MACOS = {"firefox": "Library/Application Support/Mozilla/NativeMessagingHosts",
          "chromium": "Library/Application Support/Chromium/NativeMessagingHosts",
          "chrome": "Library/Application Support/Google/Chrome/NativeMessagingHosts",
          "brave": "Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
          "edge": "Library/Application Support/Microsoft Edge/NativeMessagingHosts"}
_WINDOWS_KEY = {"firefox": r"Software\Mozilla\NativeMessagingHosts",
                "chromium": r"Software\Chromium\NativeMessagingHosts",
                "chrome": r"Software\Google\Chrome\NativeMessagingHosts",
                "brave": r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
                "edge": r"Software\Microsoft\Edge\NativeMessagingHosts"}


def extension_id(public_key_b64: str) -> str:
    """Chromium's id for an extension: the first 128 bits of SHA-256 over its public key, hex digits a..p."""
    digest = hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


@dataclass(frozen=True)
class Plan:
    browser: str
    system: str
    manifest_path: Path
    manifest: bytes
    launcher_path: Path
    launcher: bytes
    registry_key: str | None = None  # HKEY_CURRENT_USER\<key>\<HOST_NAME>, default value = manifest_path


def manifest_doc(browser: str, launcher: Path, extension_key: str) -> dict[str, object]:
    doc: dict[str, object] = {"name": HOST_NAME, "description": "certguard browser companion",
                              "path": str(launcher), "type": "stdio"}
    if browser == "firefox":
        doc["allowed_extensions"] = [GECKO_ID]
    else:
        doc["allowed_origins"] = [f"chrome-extension://{extension_id(extension_key)}/"]
    return doc


def launcher_script(system: str, python: str, data_dir: Path, extra: Sequence[str]) -> bytes:
    """The executable the manifest names: runs ``certguard native-host`` with this Python, passing the browser's
    arguments (the caller's origin) on."""
    if system == "Windows":
        def q(s: str) -> str:
            return '"' + s.replace('"', '""') + '"'
        args = " ".join(q(a) for a in [python, "-m", "certguard", "native-host", "--data-dir", str(data_dir), *extra])
        return f"@echo off\r\n{args} %*\r\n".encode()
    args = " ".join(shlex.quote(a) for a in [python, "-m", "certguard", "native-host", "--data-dir", str(data_dir),
                                            *extra])
    return f'#!/bin/sh\n# written by certguard extension install\nexec {args} "$@"\n'.encode()


def plan(browser: str, system: str, home: Path, data_dir: Path, user_data_dir: Path | None = None,
         python: str = sys.executable, extra: Sequence[str] = (), extension_key: str = EXTENSION_KEY) -> Plan:
    """Raises:
        ValueError: ``--user-data-dir`` for Firefox (it has no such folder for hosts), or an unknown system.
    """
    if user_data_dir is not None and browser not in CHROMIUMS:
        raise ValueError("--user-data-dir applies to Chromium-based browsers only")
    launcher = data_dir / "native-host" / ("certguard-native-host.bat" if system == "Windows"
                                           else "certguard-native-host")
    registry = None
    if user_data_dir is not None:
        # Chromium with --user-data-dir reads DIR/NativeMessagingHosts/, not the per-user default (TESTING.md).
        folder = user_data_dir / "NativeMessagingHosts"
    elif system == "Linux":
        folder = home / _LINUX[browser]
    elif system == "Darwin":
        folder = home / _MACOS[browser]
    elif system == "Windows":
        # Windows: the manifest can live anywhere; the registry value under HKCU points the browser at it.
        folder = data_dir / "native-host" / browser
        registry = _WINDOWS_KEY[browser] + "\\" + HOST_NAME
    else:
        raise ValueError(f"unsupported system {system!r}")
    manifest = manifest_doc(browser, launcher, extension_key)
    if system == "Windows":
        manifest["path"] = str(PureWindowsPath(launcher))
    return Plan(browser, system, folder / f"{HOST_NAME}.json", json.dumps(manifest, indent=2).encode() + b"\n",
                launcher, launcher_script(system, python, data_dir, extra), registry)


class Registry:
    """HKEY_CURRENT_USER, the only hive we write to (the current user's own browsers). Tests pass a fake."""

    def set(self, key: str, value: str) -> None:  # pragma: no cover - Windows only
        import winreg  # noqa: PLC0415 (Windows only)

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, key) as k:  # type: ignore[attr-defined,unused-ignore]
            winreg.SetValueEx(k, "", 0, winreg.REG_SZ, value)  # type: ignore[attr-defined,unused-ignore]

    def get(self, key: str) -> str | None:  # pragma: no cover - Windows only
        import winreg  # noqa: PLC0415 (Windows only)

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as k:  # type: ignore[attr-defined,unused-ignore]
                value = winreg.QueryValueEx(k, "")[0]  # type: ignore[attr-defined,unused-ignore]
        except OSError:
            return None
        return value if isinstance(value, str) else None

    def delete(self, key: str) -> None:  # pragma: no cover - Windows only
        import winreg  # noqa: PLC0415 (Windows only)

        with contextlib.suppress(FileNotFoundError):
            winreg.DeleteKey(winreg.HKEY_CURRENT_USER, key)  # type: ignore[attr-defined,unused-ignore]


def apply(p: Plan, registry: Registry | None = None) -> None:
    """Write the launcher (executable), the manifest and, on Windows, the registry value.

    Raises:
        OSError: a file could not be written (its message names the file).
    """
    p.launcher_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(p.launcher_path, p.launcher, mode=0o700)
    p.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(p.manifest_path, p.manifest, mode=0o644)
    if p.registry_key is not None:
        (registry or Registry()).set(p.registry_key, str(PureWindowsPath(p.manifest_path)))


def remove(p: Plan, registry: Registry | None = None) -> bool:
    """Delete what ``apply`` wrote; True if there was something. The launcher stays while another browser's
    manifest still names it."""
    found = p.manifest_path.exists()
    p.manifest_path.unlink(missing_ok=True)
    if p.registry_key is not None:
        reg = registry or Registry()
        found = found or reg.get(p.registry_key) is not None
        reg.delete(p.registry_key)
    return found


def installed(p: Plan, registry: Registry | None = None,
              read: Callable[[Path], bytes] = Path.read_bytes) -> str | None:
    """The launcher an installed manifest names (None: not installed, or the manifest is not ours)."""
    if p.registry_key is not None and (registry or Registry()).get(p.registry_key) is None:
        return None
    try:
        doc = json.loads(read(p.manifest_path))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("name") != HOST_NAME or not isinstance(doc.get("path"), str):
        return None
    return str(doc["path"])
