"""The client of a certguard daemon's local API (``certguard ui`` asking a running daemon for a login)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from certguard.errors import ConfigError, FetchError


def local_api(url: str, method: str, path: str, token: str, timeout: float = 5.0,
              body: bytes | None = None) -> tuple[int, bytes]:
    """One call to a certguard daemon's API on this machine (``certguard ui`` asking a running daemon for a login).

    Raises:
        FetchError: the daemon does not answer (not running, or a stale api.json).
        ConfigError: ``url`` is not a loopback http URL (api.json is never trusted to point elsewhere).
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
        raise ConfigError(f"{url!r} is not a local certguard API address")
    conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}", "Host": f"127.0.0.1:{parts.port}"}
        if body is not None:  # a JSON body (the native host handing a browser's chain to the daemon)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(1 << 20)
    except (OSError, http.client.HTTPException) as exc:  # HTTPException: something else now owns that port
        raise FetchError(url, f"no certguard daemon answers ({exc})") from exc
    finally:
        conn.close()
