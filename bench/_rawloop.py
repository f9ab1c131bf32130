"""The raw limit: a bare pyOpenSSL capture loop, sequential, one context, no judging.

``python bench/_rawloop.py TARGETS.json`` (a list of ``[sni, port]`` on 127.0.0.1). Prints how many chains it
captured. This is what any tool that captures a chain must at least do: connect, handshake with SNI, read the
certificates as DER.
"""

from __future__ import annotations

import json
import socket
import sys

from OpenSSL import SSL, crypto


def main(path: str) -> int:
    with open(path) as f:
        targets = json.load(f)
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_verify(SSL.VERIFY_NONE)
    captured = 0
    for sni, port in targets:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.settimeout(None)  # blocking: a socket timeout would make do_handshake raise WantReadError
        try:
            conn = SSL.Connection(ctx, sock)
            conn.set_tlsext_host_name(sni.encode())
            conn.set_connect_state()
            conn.do_handshake()
            chain = [crypto.dump_certificate(crypto.FILETYPE_ASN1, c) for c in conn.get_peer_cert_chain() or []]
            captured += bool(chain)
        finally:
            sock.close()
    print(captured)
    return 0 if captured == len(targets) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
