"""The local API against a hostile page in real Chromium (Debian's, driven by Playwright): a page from another
local origin can neither read the API (no CORS) nor trigger a check (no token). A control server that does send
CORS headers proves the page *would* see a readable answer."""

from __future__ import annotations

import http.server
import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

from test_daemon import running

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PAGE = """<!doctype html><title>hostile</title><script>
window.results = {};
(async () => {
  const api = %(api)s, control = %(control)s;
  try { const r = await fetch(api + "/api/status"); results.read = "read:" + r.status + ":" + await r.text(); }
  catch (e) { results.read = "blocked:" + e.name; }
  try { const r = await fetch(api + "/api/check", {method: "POST", mode: "no-cors"}); results.post = "sent:" + r.type; }
  catch (e) { results.post = "error:" + e.name; }
  try { const r = await fetch(api + "/api/status", {headers: {"Authorization": "Bearer guess"}});
        results.guess = "read:" + r.status; }
  catch (e) { results.guess = "blocked:" + e.name; }
  try { const r = await fetch(control + "/open"); results.control = "read:" + r.status + ":" + await r.text(); }
  catch (e) { results.control = "blocked:" + e.name; }
  results.done = true;
})();
</script>"""


class _Pages(http.server.BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        body, extra = (self.page, {"Content-Type": "text/html"}) if self.path == "/" else (
            b'{"secret": "readable"}', {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"})
        self.send_response(200)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> tuple[http.server.ThreadingHTTPServer, str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def test_foreign_origin_cannot_read_or_trigger(tmp_path: Path, browser: Browser) -> None:
    sites = tmp_path / "sites.txt"
    sites.write_text("127.0.0.1:9\n")
    with running(tmp_path / "data", "--interval", "3600", "--sites", str(sites), "--no-device-store",
                 "--timeout", "1") as d:
        d.wait_for(lambda s: s["checked_at"] is not None)
        rounds_before = d.json("/api/history?host=127.0.0.1")["history"][0]["seen"]
        control, control_url = _serve(_Pages)
        handler = cast(type[_Pages], type("Hostile", (_Pages,), {}))
        pages, page_url = _serve(handler)
        handler.page = (PAGE % {"api": json.dumps(f"http://127.0.0.1:{d.port}"),
                                "control": json.dumps(control_url)}).encode()
        try:
            page = browser.new_page()
            page.goto(page_url + "/")
            page.wait_for_function("window.results.done === true", timeout=15000)
            results = page.evaluate("window.results")
            page.screenshot(path=str(tmp_path / "hostile-page.png"))
        finally:
            for server in (pages, control):
                server.shutdown()
                server.server_close()
        assert results["control"] == 'read:200:{"secret": "readable"}', "control: CORS-enabled answers are readable"
        assert results["read"] == "blocked:TypeError", results
        assert results["guess"] == "blocked:TypeError", results
        assert results["post"] == "sent:opaque"  # the request left the browser ...
        time.sleep(1.0)
        after = d.json("/api/history?host=127.0.0.1")["history"][0]["seen"]
        assert after == rounds_before, "... but without the token it triggered no check"
