"""The download of signed data (``certguard update``).

It verifies TLS against Mozilla's roots (never the OS store, which may hold the very root we are looking for),
follows no redirects and bounds size and time; the caller still verifies the content's own signature.
"""

from __future__ import annotations

import http.client
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from certguard import __version__
from certguard.errors import FetchError
from certguard.probe.tls import Proxy


@dataclass(frozen=True)
class HttpResponse:
    url: str
    status: int
    content_type: str  # media type only, lower case, without parameters
    body: bytes


def https_get(url: str, *, cafile: str, timeout: float = 30.0, max_bytes: int = 8 << 20,
              proxy: Proxy | None = None) -> HttpResponse:
    """GET ``url`` over HTTPS, verifying the server against the roots in ``cafile``. Any status is returned.

    Raises:
        FetchError: not an https URL, connection/TLS failure, body over ``max_bytes``, truncated body, or the
            whole exchange took longer than ``timeout`` seconds.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise FetchError(url, "only https:// URLs are accepted", key="error.fetch.https_only")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and host name checking by default
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_verify_locations(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise FetchError(url, f"cannot load the TLS anchors {cafile}: {exc}", key="error.fetch.anchors",
                         cafile=cafile, detail=exc) from exc
    deadline = time.monotonic() + timeout
    port = parts.port or 443
    if proxy:
        conn = http.client.HTTPSConnection(proxy.host, proxy.port, context=ctx, timeout=timeout)
        auth = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else None
        conn.set_tunnel(parts.hostname, port, headers=auth)
    else:
        conn = http.client.HTTPSConnection(parts.hostname, port, context=ctx, timeout=timeout)
    try:
        conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                     headers={"User-Agent": f"certguard/{__version__}", "Accept-Encoding": "identity"})
        resp = conn.getresponse()
        declared = resp.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(url, f"response of {declared} bytes is larger than the {max_bytes} bytes allowed",
                             key="error.fetch.declared_too_large", size=declared, limit=max_bytes)
        body = bytearray()
        while chunk := resp.read(65536):
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(url, f"response is larger than the {max_bytes} bytes allowed",
                                 key="error.fetch.too_large", limit=max_bytes)
            if time.monotonic() > deadline:
                raise FetchError(url, f"download took longer than {timeout:g} s", key="error.fetch.timeout",
                                 seconds=f"{timeout:g}")
        media = (resp.getheader("Content-Type") or "").split(";", 1)[0].strip().lower()
        return HttpResponse(url, resp.status, media, bytes(body))
    except http.client.IncompleteRead as exc:
        raise FetchError(url, f"truncated response ({len(exc.partial)} bytes received, more announced)",
                         key="error.fetch.truncated", received=len(exc.partial)) from exc
    except ssl.SSLCertVerificationError as exc:
        raise FetchError(url, f"the server's certificate is not trusted ({exc.verify_message}): "
                              "the connection may be intercepted", key="error.fetch.untrusted",
                         detail=exc.verify_message) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(url, f"download failed: {exc}", key="error.fetch.failed", detail=exc) from exc
    finally:
        conn.close()
