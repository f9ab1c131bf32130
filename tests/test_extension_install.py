"""``certguard extension install|uninstall|status``: host manifests where each browser looks on Linux, macOS and
Windows (the registry through a fake: there is no Windows here), and the installed launcher really answers."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path, PureWindowsPath

import pytest

from certguard.app import hostinstall

ROOT = Path(__file__).resolve().parent.parent
EXTENSION_ID = "deooegofohhmjkajcenefblpfhmbbdll"


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "certguard", "extension", *args, "--home", str(home)],
                          capture_output=True, text=True, timeout=60, check=False,
                          env=os.environ | {"CERTGUARD_LANG": "en"})


def test_the_manifest_key_gives_the_id_the_host_allows() -> None:
    manifest = json.loads((ROOT / "extension" / "manifest.json").read_text())
    assert manifest["key"] == hostinstall.EXTENSION_KEY
    assert hostinstall.extension_id(manifest["key"]) == EXTENSION_ID
    assert manifest["browser_specific_settings"]["gecko"]["id"] == hostinstall.GECKO_ID
    # control: another key gives another id
    assert hostinstall.extension_id("AAAA" + manifest["key"][4:]) != EXTENSION_ID


def test_install_for_chromium_with_user_data_dir_then_status_and_uninstall(tmp_path: Path) -> None:
    udd, data, home = tmp_path / "profile", tmp_path / "data", tmp_path / "home"
    res = cli("install", "--browser", "chromium", "--user-data-dir", str(udd), "--data-dir", str(data), home=home)
    assert res.returncode == 0, res.stderr
    path = udd / "NativeMessagingHosts" / f"{hostinstall.HOST_NAME}.json"
    assert str(path) in res.stdout
    doc = json.loads(path.read_text())
    assert doc == {"name": hostinstall.HOST_NAME, "description": "certguard browser companion",
                   "path": str(data.resolve() / "native-host" / "certguard-native-host"), "type": "stdio",
                   "allowed_origins": [f"chrome-extension://{EXTENSION_ID}/"]}
    launcher = Path(doc["path"])
    assert os.access(launcher, os.X_OK)
    # the launcher is what the browser runs: it answers a ping over the pipes
    proc = subprocess.run([str(launcher), f"chrome-extension://{EXTENSION_ID}/"],
                          input=struct.pack("=I", 16) + b'{"type": "ping"}', capture_output=True, timeout=60,
                          check=False)
    assert proc.returncode == 0 and json.loads(proc.stdout[4:])["type"] == "pong"
    assert not (home / ".config").exists(), "with --user-data-dir nothing goes to the default place"

    status = cli("status", "--browser", "chromium", "--user-data-dir", str(udd), "--data-dir", str(data), home=home)
    assert status.returncode == 0 and str(launcher) in status.stdout
    assert cli("uninstall", "--browser", "chromium", "--user-data-dir", str(udd), home=home).returncode == 0
    assert not path.exists()
    after = cli("status", "--browser", "chromium", "--user-data-dir", str(udd), home=home)
    assert after.returncode == 3 and "not installed" in after.stdout


def test_firefox_goes_to_the_mozilla_folder_and_refuses_user_data_dir(tmp_path: Path) -> None:
    home = tmp_path / "home"
    res = cli("install", "--browser", "firefox", "--data-dir", str(tmp_path / "d"), home=home)
    assert res.returncode == 0, res.stderr
    doc = json.loads((home / ".mozilla/native-messaging-hosts" / f"{hostinstall.HOST_NAME}.json").read_text())
    assert doc["allowed_extensions"] == [hostinstall.GECKO_ID] and "allowed_origins" not in doc
    bad = cli("install", "--browser", "firefox", "--user-data-dir", str(tmp_path / "p"), home=home)
    assert bad.returncode == 2 and "Chromium-based browsers only" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize(("browser", "linux", "macos", "windows"), [
    ("chrome", ".config/google-chrome/NativeMessagingHosts",
     "Library/Application Support/Google/Chrome/NativeMessagingHosts", r"Software\Google\Chrome\NativeMessagingHosts"),
    ("brave", ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
     "Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
     r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts"),
    ("edge", ".config/microsoft-edge/NativeMessagingHosts",
     "Library/Application Support/Microsoft Edge/NativeMessagingHosts",
     r"Software\Microsoft\Edge\NativeMessagingHosts"),
    ("firefox", ".mozilla/native-messaging-hosts", "Library/Application Support/Mozilla/NativeMessagingHosts",
     r"Software\Mozilla\NativeMessagingHosts"),
])
def test_every_system_and_browser_has_its_place(tmp_path: Path, browser: str, linux: str, macos: str,
                                                windows: str) -> None:
    data = tmp_path / "data"
    name = f"{hostinstall.HOST_NAME}.json"
    assert hostinstall.plan(browser, "Linux", tmp_path, data).manifest_path == tmp_path / linux / name
    mac = hostinstall.plan(browser, "Darwin", tmp_path, data)
    assert mac.manifest_path == tmp_path / macos / name and mac.registry_key is None
    win = hostinstall.plan(browser, "Windows", tmp_path, data, python=r"C:\Py\python.exe")
    assert win.registry_key == windows + "\\" + hostinstall.HOST_NAME
    assert win.launcher_path.name == "certguard-native-host.bat"
    assert win.launcher.startswith(b"@echo off\r\n\"C:\\Py\\python.exe\" \"-m\" \"certguard\" \"native-host\"")
    assert win.launcher.endswith(b" %*\r\n")
    with pytest.raises(ValueError, match="unsupported"):
        hostinstall.plan(browser, "Plan9", tmp_path, data)


class FakeRegistry(hostinstall.Registry):
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def set(self, key: str, value: str) -> None:
        self.values[key] = value

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


def test_windows_writes_the_manifest_and_points_the_registry_at_it(tmp_path: Path) -> None:
    reg = FakeRegistry()
    p = hostinstall.plan("chrome", "Windows", tmp_path, tmp_path / "data")
    assert hostinstall.installed(p, reg) is None
    hostinstall.apply(p, reg)
    assert p.registry_key is not None
    assert reg.values == {p.registry_key: str(PureWindowsPath(p.manifest_path))}
    assert json.loads(p.manifest_path.read_text())["path"].endswith("certguard-native-host.bat")
    assert hostinstall.installed(p, reg) is not None
    # a manifest without its registry value is not installed (the browser would never find it)
    reg.values.clear()
    assert hostinstall.installed(p, reg) is None
    hostinstall.apply(p, reg)
    assert hostinstall.remove(p, reg) and reg.values == {} and not p.manifest_path.exists()
    assert not hostinstall.remove(p, reg)


def test_a_foreign_manifest_is_not_taken_for_ours(tmp_path: Path) -> None:
    p = hostinstall.plan("chromium", "Linux", tmp_path, tmp_path / "d")
    p.manifest_path.parent.mkdir(parents=True)
    p.manifest_path.write_text(json.dumps({"name": "com.other.host", "path": "/bin/sh"}))
    assert hostinstall.installed(p) is None
    p.manifest_path.write_text("{not json")
    assert hostinstall.installed(p) is None
