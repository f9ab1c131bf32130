"""The loopback side of the benchmarks, in its own process (so that the measured clients run alone in theirs).

Run by bench/run.py: ``python bench/_servers.py DIR --endpoints N [--relay-delay S]``. It builds a test PKI at run
time (the private keys stay in this process and a temporary directory), listens on N TLS ports of 127.0.0.1 serving
``[leaf for *.bench.test, intermediate]``, and optionally on one relay port that forwards to the first TLS port,
holding every chunk for ``--relay-delay`` seconds in each direction (this kernel has no netem: the relay is the
delay). It writes ``DIR/servers.json`` (ports, the root's PEM path) and stops when its stdin closes or after
``MAX_LIFETIME`` seconds, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import ssl
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import pki

MAX_LIFETIME = 900.0
HOLD = 10.0  # a client connection is closed by us after this long at the latest


async def _tls_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await asyncio.wait_for(reader.read(1), HOLD)  # the probe closes right after the handshake
    except (TimeoutError, OSError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float) -> None:
    """Forward ``src`` to ``dst``, each chunk ``delay`` seconds late, in order."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if not data:
                dst.close()
                return
            dst.write(data)

    sender = asyncio.create_task(deliver())
    try:
        while True:
            data = await src.read(65536)
            queue.put_nowait((time.monotonic() + delay, data))
            if not data:
                break
        await asyncio.wait_for(sender, HOLD)
    except (TimeoutError, OSError):
        sender.cancel()
        dst.close()


def _relay(upstream: int, delay: float):  # type: ignore[no-untyped-def]
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pump(reader, up_w, delay), _pump(up_r, writer, delay), return_exceptions=True)
    return handle


async def _main(out: Path, endpoints: int, delay: float | None) -> None:
    loop = asyncio.get_running_loop()
    # A client that aborts mid-handshake (sslyze's probing, timeouts) is not an event worth a traceback here.
    loop.set_exception_handler(lambda _loop, _ctx: None)
    root = pki.root("Bench Public Root", "Bench CA Inc", "US")
    issuing = root.child_ca("Bench Issuing CA", "Bench CA Inc", "US")
    leaf = issuing.leaf("*.bench.test", "bench.test")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as d:
        chain_file, key_file = Path(d) / "chain.pem", Path(d) / "key.pem"
        pki.write_bundle(chain_file, [leaf.cert, issuing.cert])
        key_file.write_bytes(pki.key_pem(leaf.key))
        os.chmod(key_file, 0o600)
        ctx.load_cert_chain(chain_file, key_file)
    root_pem = out / "root.pem"
    pki.write_bundle(root_pem, [root.cert])
    servers = [await asyncio.start_server(_tls_client, "127.0.0.1", 0, ssl=ctx, backlog=512)
               for _ in range(endpoints)]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    relay_port = None
    if delay is not None:
        relay = await asyncio.start_server(_relay(ports[0], delay), "127.0.0.1", 0, backlog=512)
        servers.append(relay)
        relay_port = relay.sockets[0].getsockname()[1]
    (out / "servers.json.tmp").write_text(json.dumps({"ports": ports, "relay": relay_port, "root": str(root_pem)}))
    (out / "servers.json.tmp").rename(out / "servers.json")
    stdin_closed = loop.run_in_executor(None, sys.stdin.buffer.read)
    await asyncio.wait_for(stdin_closed, MAX_LIFETIME)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument("--relay-delay", type=float, default=None)
    a = parser.parse_args()
    with contextlib.suppress(TimeoutError):  # MAX_LIFETIME reached: stop by ourselves
        asyncio.run(_main(a.dir, max(1, min(a.endpoints, 1000)), a.relay_delay))
    os._exit(0)  # the stdin reader thread cannot be joined; nothing is left to clean up
