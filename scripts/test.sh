#!/usr/bin/env bash
# Installs everything certguard's test suite needs on a fresh Debian machine (system packages, the project in
# .venv, mitmproxy in its own .venv-mitm) and runs the whole suite: ruff, mypy --strict, pytest -W error.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  # certutil (NSS audit tests), ip (namespaces), dbus-run-session + dbus-send (notification tests),
  # systemd-analyze (service unit check), chromium (the UI and the API against a hostile page), and for the
  # pywebview window: Xvfb plus the X/GL libraries Qt's xcb plugin loads (TESTING.md: Qt's "xcb-cursor0 is needed"
  # hides that icccm4 and keysyms1 were missing), and a font with Cyrillic for the Russian and Kazakh screenshots
  for pkg in libnss3-tools iproute2 dbus-daemon dbus-bin systemd chromium xvfb xauth libxcb-icccm4 libxcb-keysyms1 \
             libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-cursor0 \
             libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libnss3 libxcomposite1 libxdamage1 libxrandr2 \
             libxtst6 libxkbfile1 libasound2 libpulse0 fonts-dejavu-core; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

# browser companion (issue 15): Firefox ESR for the real-Firefox extension test, node/npm for the extension's unit
# tests and web-ext lint
# (node and npm only when missing: this machine's image ships Node 20 with its own npm, and Debian's npm package
# would pull Debian's older nodejs over it)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  extra=()
  dpkg -s firefox-esr >/dev/null 2>&1 || extra+=(firefox-esr)
  command -v node >/dev/null || extra+=(nodejs)
  command -v npm >/dev/null || extra+=(npm)
  if [ ${#extra[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${extra[@]}" >/dev/null
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# gui: pywebview with PyQt6 + Qt WebEngine (~530 MB) for the desktop-window tests
.venv/bin/python -m pip install -q -e '.[test,gui]'

# mitmproxy is a test tool, not a dependency: it pins old cryptography/pyOpenSSL, so it lives in its own venv.
# 11.0.2 is the newest release for Python 3.11 (TESTING.md).
if [ ! -x .venv-mitm/bin/mitmdump ]; then
  "$PY" -m venv .venv-mitm
  .venv-mitm/bin/python -m pip install -q 'mitmproxy==11.0.2'
fi

.venv/bin/ruff check certguard tests bench
MYPYPATH=tests .venv/bin/mypy certguard tests
# The layering of DESIGN.md §2 ([tool.importlinter] in pyproject.toml): the decision core imports nothing above it.
.venv/bin/lint-imports
# A private key must never be committed: tests create their certificates at run time.
if git ls-files -z | xargs -0 grep -lE -- '-----BEGIN ([A-Z]+ )?PRIVATE KEY-----' 2>/dev/null | grep -v '^scripts/test.sh$'; then
  echo "error: a tracked file contains a private key" >&2
  exit 1
fi
.venv/bin/python -m pytest -W error "$@"
# The UI's pure helpers (ui/lib/*.js: formatting, t(), timeline maths, icons, the page registry) with node's
# built-in test runner; no npm packages needed (node >= 20).
node --test tests/js/
# browser companion (issue 15): the extension's logic under node's test runner (a named folder: a bare
# `node --test` can wander into a browser profile), then Mozilla's linter (offline; the one warning left is the
# service_worker key Firefox ignores, which the one-tree-for-both-browsers manifest needs)
node --test tests/js_extension/
WEBEXT="${XDG_CACHE_HOME:-$HOME/.cache}/certguard-web-ext"
if [ ! -x "$WEBEXT/node_modules/.bin/web-ext" ]; then
  npm install -s --no-audit --no-fund --prefix "$WEBEXT" web-ext >/dev/null
fi
"$WEBEXT/node_modules/.bin/web-ext" lint --source-dir extension --self-hosted
