"""The API's login and session rules, in-process (Flask's test client on a real Daemon and History).

A session cookie is ambient authority: the browser adds it on its own, also to requests another local page makes.
Each rule that keeps it from being abused is shown to refuse the abuse and to let the UI's own request through.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from certguard.app import api
from certguard.judge.analyze import TrustContext
from certguard.probe import tls as probe
from certguard.watch import daemon, notify

TOKEN = "t" * 43
HOST = "127.0.0.1:8123"


@pytest.fixture
def app(tmp_path: Path, ctx_factory: Callable[..., TrustContext]) -> Iterator[tuple[FlaskClient, api.Sessions]]:
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings())
    sessions = api.Sessions()
    client = api.create_app(d, TOKEN, sessions=sessions).test_client()
    yield client, sessions
    d.history.close()


def get(client: FlaskClient, path: str, **headers: str) -> Any:
    return client.get(path, headers={"Host": HOST, **headers})


def body(resp: TestResponse) -> Any:
    """The response's JSON document (``TestResponse.json`` is typed ``Any | None``: None when it is not JSON)."""
    doc = resp.json
    assert doc is not None, resp.data
    return doc


def logged_in(client: FlaskClient, sessions: api.Sessions) -> None:
    resp = get(client, f"/login?code={sessions.new_code()}")
    assert resp.status_code == 303 and resp.headers["Location"] == "/"


def test_sessions_are_single_use_expire_and_are_bounded() -> None:
    now = [0.0]
    s = api.Sessions(code_ttl=60, max_sessions=2, clock=lambda: now[0])
    code = s.new_code("kk")
    redeemed = s.redeem(code)
    assert redeemed is not None and redeemed[1] == "kk" and s.valid(redeemed[0])
    assert s.redeem(code) is None, "single use"
    late = s.new_code()
    now[0] = 61
    assert s.redeem(late) is None, "expired"
    assert s.redeem("made-up") is None and not s.valid("made-up")
    first = s.redeem(s.new_code())
    second = s.redeem(s.new_code())
    third = s.redeem(s.new_code())
    assert first and second and third
    assert not s.valid(redeemed[0]) and not s.valid(first[0]), "the oldest sessions make room"
    assert s.valid(second[0]) and s.valid(third[0])


def test_the_page_is_public_but_the_data_is_not(app: tuple[FlaskClient, api.Sessions]) -> None:
    client, _ = app
    page = get(client, "/")
    assert page.status_code == 200 and b"/ui/main.js" in page.data
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert get(client, "/ui/main.js").mimetype == "text/javascript"
    assert get(client, "/ui/__init__.py").status_code == 404, "only the UI's own files are served"
    assert get(client, "/i18n?lang=ru").json["messages"]["ui.nav.settings"] == "Настройки"
    assert get(client, "/i18n?lang=xx").status_code == 400
    assert get(client, "/api/status").status_code == 401
    assert get(client, "/api/status", Authorization=f"Bearer {TOKEN}").status_code == 200


def test_login_code_needs_the_token_itself(app: tuple[FlaskClient, api.Sessions]) -> None:
    client, sessions = app
    assert client.post("/api/login-code", headers={"Host": HOST}).status_code == 401
    logged_in(client, sessions)
    assert client.post("/api/login-code", headers={"Host": HOST, "X-Certguard": "1"}).status_code == 401, \
        "a session cannot mint more logins"
    resp = client.post("/api/login-code?lang=fr", headers={"Host": HOST, "Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 201 and body(resp)["path"].startswith("/login?code=")
    assert TOKEN not in body(resp)["path"]
    assert get(client, body(resp)["path"]).headers["Location"] == "/?lang=fr"


def test_cookie_rules(app: tuple[FlaskClient, api.Sessions]) -> None:
    client, sessions = app
    assert get(client, "/api/status").status_code == 401
    assert get(client, "/login?code=guess").status_code == 403
    logged_in(client, sessions)
    own = {"Sec-Fetch-Site": "same-origin", "Origin": f"http://{HOST}"}
    assert get(client, "/api/status", **own).status_code == 200
    assert get(client, "/api/status").status_code == 200, "older browsers send neither header"
    # another page on 127.0.0.1 (other port) is same-site but cross-origin
    assert get(client, "/api/status", **{"Sec-Fetch-Site": "same-site"}).status_code == 401
    assert get(client, "/api/status", Origin="http://127.0.0.1:9999").status_code == 401
    # changes need the custom header, which no cross-origin page can add without a preflight we never answer
    assert client.post("/api/check", headers={"Host": HOST, **own}).status_code == 401
    assert client.post("/api/check", headers={"Host": HOST, **own, "X-Certguard": "1"}).status_code == 202
    assert client.put("/api/settings", json={"quiet": True}, headers={"Host": HOST, **own}).status_code == 401
    resp = client.put("/api/settings", json={"quiet": True}, headers={"Host": HOST, **own, "X-Certguard": "1"})
    assert resp.status_code == 200 and body(resp)["quiet"] is True
    # a forged or stale cookie counts for nothing
    client.set_cookie(api.SESSION_COOKIE, "forged", domain="127.0.0.1")
    assert get(client, "/api/status", **own).status_code == 401


def test_invalid_settings_say_what_is_wrong_with_a_catalog_key(app: tuple[FlaskClient, api.Sessions]) -> None:
    client, _ = app
    auth = {"Host": HOST, "Authorization": f"Bearer {TOKEN}"}
    resp = client.put("/api/settings", json={"sites": ["good.example", "bad host!"]}, headers=auth)
    assert resp.status_code == 400
    assert body(resp)["key"] == "ui.settings.err_site" and body(resp)["params"] == {"site": "bad host!"}
    resp = client.put("/api/settings", json={"allow": [{"network": "x"}]}, headers=auth)
    assert resp.status_code == 400 and body(resp)["key"] == "ui.settings.err_allow"
    assert body(client.get("/api/settings", headers=auth))["sites"] == [], "nothing was applied"
    resp = client.put("/api/settings", json={"sites": ["good.example"]}, headers=auth)
    assert resp.status_code == 200 and body(resp)["sites"] == ["good.example"]  # control


def _verdict(host: str, status: str, kind: str | None = None) -> Any:
    from datetime import UTC, datetime

    from certguard.judge.models import InterceptorKind, InterceptorMatch, MatchStrength, Severity, Status, Verdict

    match = InterceptorMatch("zscaler", "Zscaler Root CA", InterceptorKind(kind), None, MatchStrength.NAME,
                             "00" * 32) if kind else None
    # a proxy recognised by name whose root this device trusts (as an organisation installs it): allow rules apply
    return Verdict(host, 443, None, Status(status), Severity.WARNING, datetime.now(UTC), match, rule="x",
                   device_anchor="11" * 32 if kind else None)


def test_headline_is_decided_once_by_the_daemon(tmp_path: Path, ctx_factory: Callable[..., TrustContext]) -> None:
    """An allowed corporate proxy plus one expired site: the headline, and so its advice, is the expired site."""
    rules = (notify.AllowRule("Zscaler*"),)
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings(allow=rules))
    try:
        d.latest = daemon.Round(verdicts=[_verdict("corp.test", "intercepted", "corporate"),
                                          _verdict("old.test", "misconfigured"), _verdict("ok.test", "ok")])
        client = api.create_app(d, TOKEN).test_client()
        doc = client.get("/api/status", headers={"Host": HOST, "Authorization": f"Bearer {TOKEN}"}).get_json()
        assert (doc["overall"], doc["headline"]["host"], doc["headline"]["allowed"]) == ("misconfigured", "old.test",
                                                                                          False)
        # control: without the allow rule the interception leads
        d.settings = daemon.Settings()
        doc = client.get("/api/status", headers={"Host": HOST, "Authorization": f"Bearer {TOKEN}"}).get_json()
        assert (doc["overall"], doc["headline"]["host"]) == ("intercepted", "corp.test")
        # only the allowed proxy left: it leads, marked allowed
        d.settings = daemon.Settings(allow=rules)
        d.latest = daemon.Round(verdicts=[_verdict("corp.test", "intercepted", "corporate"), _verdict("ok.test", "ok")])
        doc = client.get("/api/status", headers={"Host": HOST, "Authorization": f"Bearer {TOKEN}"}).get_json()
        assert (doc["overall"], doc["headline"]["allowed"]) == ("intercepted", True)
        # one unreachable site among good ones is not "offline"
        d.latest = daemon.Round(verdicts=[_verdict("a.test", "unreachable"), _verdict("ok.test", "ok")])
        doc = client.get("/api/status", headers={"Host": HOST, "Authorization": f"Bearer {TOKEN}"}).get_json()
        assert (doc["overall"], doc["headline"]["host"]) == ("ok", None)
    finally:
        d.history.close()


def _auth() -> dict[str, str]:
    return {"Host": HOST, "Authorization": f"Bearer {TOKEN}"}


def test_deep_json_is_a_400_and_a_full_house_of_listeners_a_503(app: tuple[FlaskClient, api.Sessions]) -> None:
    client, _ = app
    deep = "[" * 5000 + "]" * 5000
    resp = client.put("/api/settings", data=deep, content_type="application/json", headers=_auth())
    assert resp.status_code == 400
    for path in ("/api/observed", "/api/lab/run"):  # every JSON endpoint
        assert client.post(path, data=deep, content_type="application/json", headers=_auth()).status_code == 400
    shallow = client.put("/api/settings", json={"quiet": True}, headers=_auth())
    assert shallow.status_code == 200 and body(shallow)["quiet"] is True  # control
    streams = [client.get("/api/events", headers=_auth(), buffered=False) for _ in range(16)]
    try:
        assert all(s.status_code == 200 for s in streams)
        refused = client.get("/api/events", headers=_auth())
        assert refused.status_code == 503 and "listeners" in body(refused)["message"]
    finally:
        for s in streams:
            s.close()


def test_a_setting_that_cannot_be_saved_is_not_live(tmp_path: Path, ctx_factory: Callable[..., TrustContext]) -> None:
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings())
    try:
        client = api.create_app(d, TOKEN).test_client()
        (tmp_path / "settings.json").mkdir()  # os.replace onto a directory fails: as a full disk would
        resp = client.put("/api/settings", json={"quiet": True}, headers=_auth())
        assert resp.status_code == 503 and d.settings.to_dict()["quiet"] is False
        (tmp_path / "settings.json").rmdir()
        resp = client.put("/api/settings", json={"quiet": True}, headers=_auth())  # control
        assert resp.status_code == 200 and d.settings.to_dict()["quiet"] is True
        assert json.loads((tmp_path / "settings.json").read_text())["quiet"] is True
    finally:
        d.history.close()


def test_waitress_refuses_an_oversized_body_before_reading_it(tmp_path: Path,
                                                               ctx_factory: Callable[..., TrustContext]) -> None:
    """Without max_request_body_size waitress buffers up to 1 GiB before the app can say no (issue 13)."""
    import http.client
    import threading

    from waitress.server import create_server

    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings())
    server = create_server(api.create_app(d, TOKEN), host="127.0.0.1", port=0, max_request_body_size=api.MAX_BODY)
    port = server.socket.getsockname()[1]  # type: ignore[union-attr]

    def serve() -> None:
        # waitress has no stop(): closing the server under its loop makes the loop's select() fail with EBADF
        with contextlib.suppress(OSError, ValueError):
            server.run()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("POST", "/api/check")
        conn.putheader("Content-Length", str(300 * 1024 * 1024))
        conn.endheaders()
        conn.send(b"x" * (256 * 1024))  # a little of the 300 MB announced: the answer must not wait for the rest
        resp = conn.getresponse()
        assert resp.status == 413
        conn.close()
        ok = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # control: a small request is served
        ok.request("POST", "/api/check", body=b"{}", headers={"Host": f"127.0.0.1:{port}",
                                                               "Authorization": f"Bearer {TOKEN}"})
        assert ok.getresponse().status == 202
        ok.close()
    finally:
        server.close()
        thread.join(timeout=10)
        d.history.close()


def test_the_rendered_status_follows_every_new_round_and_setting(tmp_path: Path,
                                                                 ctx_factory: Callable[..., TrustContext]) -> None:
    """/api/status is rendered once per round: never served stale after the round, the settings or the language
    change."""
    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings())
    try:
        client = api.create_app(d, TOKEN).test_client()
        d.latest = daemon.Round(verdicts=[_verdict("ok.test", "ok")])
        first = client.get("/api/status", headers=_auth()).get_json()
        assert first["overall"] == "ok"
        d.latest = daemon.Round(verdicts=[_verdict("corp.test", "intercepted", "corporate")])
        assert client.get("/api/status", headers=_auth()).get_json()["overall"] == "intercepted"
        d.update_settings({"allow": [{"interceptor": "Zscaler*"}]})
        assert client.get("/api/status", headers=_auth()).get_json()["headline"]["allowed"] is True
        fr = client.get("/api/status?lang=fr", headers=_auth()).get_json()
        assert fr["results"][0]["advice"] != client.get("/api/status", headers=_auth()).get_json()["results"][0][
            "advice"]
    finally:
        d.history.close()


def test_advice_for_several_sites_says_these_sites(tmp_path: Path, ctx_factory: Callable[..., TrustContext]) -> None:
    """The Status page's advice speaks of every site sharing the headline's cause: "these sites" for two blocked
    sites, "this site" for one (the control), in each language that words it."""
    from certguard.i18n import Translator

    d = daemon.Daemon(tmp_path, ctx_factory(), options=probe.ProbeOptions(timeout=1), base_targets=lambda s: [],
                      notifier=notify.Notifier(lambda t, b: True), settings=daemon.Settings())
    try:
        client = api.create_app(d, TOKEN).test_client()
        fr = Translator("fr")
        d.latest = daemon.Round(verdicts=[_verdict("a.test", "blocked"), _verdict("b.test", "blocked"),
                                          _verdict("c.test", "ok")])
        doc = client.get("/api/status?lang=fr", headers=_auth()).get_json()
        assert doc["headline"]["sites"] == 2
        assert doc["headline"]["advice"] == fr("advice.blocked.many") and doc["headline"]["advice"].startswith("Ces")
        d.latest = daemon.Round(verdicts=[_verdict("a.test", "blocked"), _verdict("c.test", "ok")])
        doc = client.get("/api/status?lang=fr", headers=_auth()).get_json()
        assert doc["headline"]["sites"] == 1 and doc["headline"]["advice"] == fr("advice.blocked")
        # A kind without a plural wording keeps its one text for any number of sites.
        d.latest = daemon.Round(verdicts=[_verdict("a.test", "intercepted", "antivirus"),
                                          _verdict("b.test", "intercepted", "antivirus")])
        doc = client.get("/api/status", headers=_auth()).get_json()
        assert doc["headline"]["sites"] == 2 and doc["headline"]["advice"] == Translator("en")("advice.antivirus")
    finally:
        d.history.close()
