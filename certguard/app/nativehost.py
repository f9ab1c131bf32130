"""``certguard native-host``: the browsers' native-messaging protocol, spoken on stdin/stdout.

Each message is a 32-bit length in native byte order followed by that many bytes of UTF-8 JSON (the browsers'
contract, both directions). The browser starts one process per ``sendNativeMessage`` (or keeps one for a port);
argv carries the caller's origin (Chromium: ``chrome-extension://ID/``; Firefox: the manifest path and the add-on
id), which the browser has already checked against the manifest's allowed list.

Requests and answers:
    {"type":"ping"}                                        → {"type":"pong","version":…,"texts":{…}}
    {"type":"judge","host":H,"port":P,"chain":[b64 DER, leaf first],"browser":"firefox"}
                                                           → {"type":"verdict","result":{…},"probe":…,"difference":…}
    {"type":"probe","host":H,"port":P}                     → {"type":"verdict","result":{…},…}
    {"type":"open_ui"}                                     → {"type":"ui","url":…} (a one-time login link)
    anything else                                          → {"type":"error","error":KEY,"message":…}

Hostile or broken input (the browser is trusted, but a page could confuse an extension, and a bug there must not
crash us): every read is bounded (1 MiB a message, a deadline for the rest of a message once its length has
arrived), a broken message is answered with an error and never a traceback, and a framing error (a length over
the limit, a message cut short) ends the session because nothing after it can be trusted to be a message start.
stdout carries only protocol frames: ``print`` and logging go to stderr.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import queue
import re
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from certguard import __version__
from certguard.app import desktop
from certguard.app.render import to_json
from certguard.data.targets import parse_target
from certguard.errors import CertguardError, ConfigError, FetchError
from certguard.i18n import LANGUAGES, Translator
from certguard.judge.analyze import TrustContext
from certguard.judge.models import InterceptorKind, Status, Verdict
from certguard.probe import local
from certguard.probe import tls as probe
from certguard.watch.companion import Observation, ProbeCache, RateLimited, observe
from certguard.watch.daemon import read_api_info
from certguard.watch.pipeline import Pipeline

log = logging.getLogger(__name__)

MAX_MESSAGE = 1 << 20  # the browsers' own limit for host → browser; we apply it both ways
MAX_CERT = 64 * 1024
MAX_CERTS = 32
MESSAGE_TIMEOUT = 10.0  # seconds for the rest of a message once its length has arrived
IDLE_TIMEOUT = 600.0  # a port nobody uses any more: exit instead of lingering
BROWSERS = ("firefox", "chromium", "chrome", "brave", "edge")
_BROWSER = re.compile(r"^[a-z]{1,16}$")

# The popup's texts, sent along with each answer so the popup speaks the user's language from the same catalogs.
POPUP_KEYS = ("ui.popup.checking", "ui.popup.not_checked", "ui.popup.interceptor", "ui.popup.source_browser",
              "ui.popup.source_probe", "ui.popup.open_ui", "ui.popup.error", "ui.popup.difference",
              "ui.popup.ui_starting", "ui.title")
# Error keys of the protocol → their catalog message (literal keys: tests/test_i18n.py sees them).
ERRORS = {"too_large": "ui.native.too_large", "truncated": "ui.native.truncated", "timeout": "ui.native.timeout",
          "malformed": "ui.native.malformed", "bad_request": "ui.native.bad_request",
          "unknown_type": "ui.native.unknown_type", "rate_limited": "ui.native.rate_limited",
          "internal": "ui.native.internal", "too_large_answer": "ui.native.too_large_answer",
          "no_ui": "ui.native.no_ui"}


class ProtocolError(Exception):
    """An answer of type ``error``. ``fatal``: the framing is broken, the session ends after the answer."""

    def __init__(self, error: str, fatal: bool = False, **params: object) -> None:
        super().__init__(error)
        self.error = error
        self.fatal = fatal
        self.params = params


def error_doc(exc: ProtocolError, tr: Translator) -> dict[str, Any]:
    return {"type": "error", "error": exc.error, "message": tr(ERRORS[exc.error], **exc.params)}


# ---- requests ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    kind: str  # "judge" (a chain the browser saw) or "probe" (certguard connects itself)
    host: str
    port: int
    chain: tuple[bytes, ...] = ()
    browser: str = "browser"

    @property
    def source(self) -> str:
        return f"browser:{self.browser}"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"host": self.host, "port": self.port, "browser": self.browser}
        if self.kind == "judge":
            doc["chain"] = [base64.b64encode(c).decode("ascii") for c in self.chain]
        return doc


def parse_request(msg: dict[str, Any], kind: str) -> Request:
    """A judge or probe request, validated field by field (the same check for the native host and the API).

    Raises:
        ProtocolError: ``bad_request`` naming the first invalid field.
    """
    host, port = msg.get("host"), msg.get("port", 443)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ProtocolError("bad_request", field="port")
    if not isinstance(host, str) or not 0 < len(host) <= 253:
        raise ProtocolError("bad_request", field="host")
    bare = host.strip("[]")
    try:
        target = parse_target(f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}")
    except ConfigError as exc:
        raise ProtocolError("bad_request", field="host") from exc
    browser = msg.get("browser", "browser")
    if not isinstance(browser, str) or not _BROWSER.match(browser):
        raise ProtocolError("bad_request", field="browser")
    chain: list[bytes] = []
    if kind == "judge":
        raw = msg.get("chain")
        if not isinstance(raw, list) or not 0 < len(raw) <= MAX_CERTS:
            raise ProtocolError("bad_request", field="chain")
        for item in raw:
            if not isinstance(item, str) or len(item) > MAX_CERT * 4 // 3 + 4:
                raise ProtocolError("bad_request", field="chain")
            try:
                der = base64.b64decode(item, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProtocolError("bad_request", field="chain") from exc
            if not der:
                raise ProtocolError("bad_request", field="chain")
            chain.append(der)
    return Request(kind, target.host, target.port, tuple(chain), browser)


# ---- the answers (the same result objects as ``check --json``) -----------------------------------------------------

def result_doc(v: Verdict, ctx: TrustContext, tr: Translator) -> dict[str, Any]:
    """One result as ``check --json`` renders it (the one renderer, ``render.to_json``), except that the popup
    reads the interceptor's name in its language: ``name`` is localized, ``data_name`` the intel file's own."""
    result: dict[str, Any] = json.loads(to_json([v], ctx, tr, v.observed_at))["results"][0]
    if v.interceptor is not None:
        result["interceptor"] |= {"name": tr.interceptor_name(v.interceptor), "data_name": v.interceptor.name}
    return result


def observation_doc(obs: Observation, ctx: TrustContext, tr: Translator) -> dict[str, Any]:
    diff = obs.difference
    return {"result": result_doc(obs.verdict, ctx, tr),
            "probe": result_doc(obs.probe, ctx, tr) if obs.probe is not None else None,
            "difference": diff.to_dict(tr.finding(diff)) if diff is not None else None}


# Templates the popup fills in itself: their placeholders are passed through as they are.
_TEMPLATES = {"ui.popup.interceptor": ("name", "kind"), "ui.popup.error": ("message",)}


def texts(tr: Translator) -> dict[str, str]:
    out = {key: tr(key, **{p: "{" + p + "}" for p in _TEMPLATES.get(key, ())}) for key in POPUP_KEYS}
    out |= {f"status.{s.value}": tr(f"status.{s.value}") for s in Status}
    out |= {f"kind.{k.value}": tr(f"kind.{k.value}") for k in InterceptorKind}
    return out


# ---- framing -------------------------------------------------------------------------------------------------------

class Reader:
    """Bounded reads from a pipe with deadlines. A thread does the blocking reads (``select`` does not work on
    Windows pipes); its queue holds at most 64 chunks, so a flooding writer is throttled, not buffered."""

    def __init__(self, fd: int) -> None:
        self._chunks: queue.Queue[bytes] = queue.Queue(maxsize=64)
        self._buf = b""
        self._eof = False
        threading.Thread(target=self._pump, args=(fd,), daemon=True).start()

    def _pump(self, fd: int) -> None:
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            self._chunks.put(data)
            if not data:
                return

    def _fill(self, timeout: float) -> bool:
        """One more chunk into the buffer; False on end of input. Raises queue.Empty on timeout."""
        if self._eof:
            return False
        data = self._chunks.get(timeout=timeout)
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def read(self, n: int, timeout: float, first_timeout: float | None = None) -> bytes | None:
        """Exactly ``n`` bytes; None if the input ended before the first byte.

        Raises:
            ProtocolError: ``truncated`` (ended midway) or ``timeout``.
        """
        wait = first_timeout if first_timeout is not None else timeout
        while len(self._buf) < n:
            try:
                more = self._fill(wait)
            except queue.Empty as exc:
                if not self._buf and first_timeout is not None:
                    return None  # idle: nobody talks to us any more
                raise ProtocolError("timeout", fatal=True) from exc
            if not more:
                if not self._buf:
                    return None
                raise ProtocolError("truncated", fatal=True)
            wait = timeout
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def read_message(reader: Reader, idle: float = IDLE_TIMEOUT, timeout: float = MESSAGE_TIMEOUT) -> Any:
    """The next message, decoded; None at the end of input.

    Raises:
        ProtocolError: framing (fatal) or content (the session goes on) is broken.
    """
    header = reader.read(4, timeout, first_timeout=idle)
    if header is None:
        return None
    (length,) = struct.unpack("=I", header)
    if length > MAX_MESSAGE:
        raise ProtocolError("too_large", fatal=True)
    body = reader.read(length, timeout) if length else b""
    if body is None:
        raise ProtocolError("truncated", fatal=True)
    try:
        msg = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError("malformed") from exc
    if not isinstance(msg, dict):
        raise ProtocolError("malformed")
    return msg


def frame(doc: dict[str, Any]) -> bytes:
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return struct.pack("=I", len(body)) + body


# ---- the host ------------------------------------------------------------------------------------------------------

class NativeHost:
    """Answers one message at a time. Chains go to the daemon for ``data_dir`` when one answers (history, episodes
    and notifications then include them), else they are judged here through the same pipeline."""

    def __init__(self, data_dir: Path, load_ctx: Callable[[], TrustContext], options: probe.ProbeOptions,
                 lang: str | None = None) -> None:
        self.data_dir = data_dir
        self._load_ctx = load_ctx
        self._ctx: TrustContext | None = None
        self.options = options
        self.lang = lang
        self.cache = ProbeCache(data_dir / "browser-probes.json")

    @property
    def ctx(self) -> TrustContext:
        if self._ctx is None:  # loaded on first use: a ping must not wait for the device's trust stores
            self._ctx = self._load_ctx()
        return self._ctx

    def translator(self, msg: dict[str, Any]) -> Translator:
        lang = msg.get("lang")
        if isinstance(lang, str):
            lang = lang.split("-")[0].lower()
        return Translator(lang if lang in LANGUAGES else self.lang)

    def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        tr = self.translator(msg)
        kind = msg.get("type")
        try:
            if kind == "ping":
                return {"type": "pong", "version": __version__, "texts": texts(tr)}
            if kind in ("judge", "probe"):
                req = parse_request(msg, kind)
                return {"type": "verdict", **self.verdict(req, tr), "texts": texts(tr)}
            if kind == "open_ui":
                return self.open_ui(tr)
            raise ProtocolError("unknown_type", type=str(kind)[:40])
        except ProtocolError as exc:
            return error_doc(exc, tr)

    def _daemon(self) -> tuple[str, str] | None:
        info = read_api_info(self.data_dir)
        try:
            token = (self.data_dir / "api.token").read_text(encoding="ascii").strip()
        except OSError:
            return None
        url = info.get("url") if info else None
        return (url, token) if isinstance(url, str) and token else None

    def verdict(self, req: Request, tr: Translator) -> dict[str, Any]:
        daemon = self._daemon()
        if daemon is not None:
            url, token = daemon
            try:
                status, body = local.local_api(url, "POST", f"/api/observed?lang={tr.lang}", token, timeout=60,
                                               body=json.dumps(req.to_json()).encode())
            except (FetchError, ConfigError) as exc:
                log.info("no daemon for %s (%s): judging here", self.data_dir, exc)
            else:
                if status == 429:
                    raise ProtocolError("rate_limited")
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                if status == 200 and isinstance(doc, dict) and isinstance(doc.get("result"), dict):
                    return {k: doc.get(k) for k in ("result", "probe", "difference")}
                # A daemon that refuses (an older version, a bug) must not lose what the browser saw.
                log.warning("the daemon answered %d to /api/observed: judging here", status)
        pipeline = Pipeline(self.ctx, self.options, workers=1)
        try:
            if req.kind == "judge":
                seen = pipeline.judge_chain(req.host, req.port, req.chain, source=req.source).verdicts[0]
                obs = observe(seen, lambda: self.cache.probe(pipeline, req.host, req.port))
            else:
                obs = Observation(self.cache.probe(pipeline, req.host, req.port), None, None)
        except RateLimited as exc:
            raise ProtocolError("rate_limited") from exc
        return observation_doc(obs, self.ctx, tr)

    def open_ui(self, tr: Translator) -> dict[str, Any]:
        """A login link to the running daemon's UI, or start ``certguard ui`` (its own window and daemon)."""
        url = desktop.login_url(self.data_dir, tr.lang)
        if url is not None:
            return {"type": "ui", "url": url}
        try:
            # Its own session: the browser ends the host's process group when the message is answered.
            subprocess.Popen([sys.executable, "-m", "certguard", "ui", "--data-dir", str(self.data_dir)],  # noqa: S603
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        except OSError as exc:
            raise ProtocolError("no_ui", detail=str(exc)) from exc
        return {"type": "ui", "url": None, "message": tr("ui.popup.ui_starting")}


def serve(host: NativeHost, stdin_fd: int, out: BinaryIO, idle: float = IDLE_TIMEOUT,
          timeout: float = MESSAGE_TIMEOUT) -> int:
    """The message loop: until the input ends (0) or its framing breaks (2). Never raises."""
    reader = Reader(stdin_fd)
    fallback = Translator(host.lang)
    while True:
        fatal = False
        try:
            msg = read_message(reader, idle, timeout)
            if msg is None:
                return 0
            answer = host.handle(msg)
        except ProtocolError as exc:
            answer, fatal = error_doc(exc, fallback), exc.fatal
        except (CertguardError, OSError) as exc:
            log.error("could not answer: %s", exc)
            answer = error_doc(ProtocolError("internal"), fallback)
        except Exception:  # a bug: the browser gets an error and the log the traceback, never stdout
            log.exception("internal error in the native host")
            answer = error_doc(ProtocolError("internal"), fallback)
        data = frame(answer)
        if len(data) - 4 > MAX_MESSAGE:
            data = frame(error_doc(ProtocolError("too_large_answer"), fallback))
        try:
            out.write(data)
            out.flush()
        except OSError:  # the browser went away
            return 0
        if fatal:
            return 2


def run(host: NativeHost, idle: float = IDLE_TIMEOUT, timeout: float = MESSAGE_TIMEOUT) -> int:
    """Serve on the process's stdin/stdout. Anything else that writes to stdout (a stray print) goes to stderr, so
    it can never corrupt a frame."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    if sys.platform == "win32":  # pragma: no cover - Windows: binary pipes, or \n becomes \r\n inside a frame
        import msvcrt  # noqa: PLC0415 (Windows only)

        msvcrt.setmode(sys.stdin.fileno(), os.O_BINARY)
        msvcrt.setmode(out.fileno(), os.O_BINARY)
    try:
        return serve(host, sys.stdin.fileno(), out, idle, timeout)
    finally:
        out.close()
