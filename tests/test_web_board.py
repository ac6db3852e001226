"""The web board over real HTTP (uvicorn on 127.0.0.1), reading a database with known content."""

from __future__ import annotations

import asyncio
import io
import json
import re
import socket
from collections.abc import AsyncIterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import feedparser
import httpx
import pytest
from sqlmodel import col, select

from monitor.cli import main
from monitor.config import load_config
from monitor.export import web_link
from monitor.store import Store
from monitor.web import Board, WebError, WebServer, endpoint_for
from tests.web_fixtures import HOSTILE_TITLE, at, build_board_db

TOKEN = "board-token-0123456789"


@dataclass
class Running:
    web: WebServer
    config_dir: Path
    db_url: str
    store: Store

    @property
    def url(self) -> str:
        return self.web.url


async def _serve(tmp_path: Path, host: str = "127.0.0.1", token: str | None = None) -> AsyncIterator[Running]:
    config_dir, url = await asyncio.to_thread(build_board_db, tmp_path)
    config = load_config(config_dir)
    store = Store(url)
    web = WebServer(Board(config=lambda: config, store=store), host, 0, token)
    await web.start()
    try:
        yield Running(web, config_dir, url, store)
    finally:
        await web.close()
        store.close()


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[Running]:
    async for running in _serve(tmp_path):
        yield running


@pytest.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[Running]:
    async for running in _serve(tmp_path, token=TOKEN):
        yield running


def client(**kw: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(trust_env=False, timeout=10, **kw)  # type: ignore[arg-type]


def rows(html: str) -> dict[str, str]:
    """Overview table rows keyed by the commitment id they show."""
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        found = re.search(r'href="/commitments/([^"]+)"', row)
        if found:
            out[found.group(1)] = row
    return out


def cli(*args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


async def test_overview_shows_each_status_and_filters(board: Running) -> None:
    async with client() as c:
        page = await c.get(f"{board.url}/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        table = rows(page.text)
        assert set(table) == {"cn-soybeans", "us-fentanyl-tariff-cut", "us-port-fees", "cn-rare-earths"}
        assert 'class="status s-in_progress">in progress<' in table["cn-soybeans"]
        assert 'class="status s-fulfilled">fulfilled<' in table["us-fentanyl-tariff-cut"]
        assert 'class="status s-delayed">delayed<' in table["us-port-fees"]
        assert "due 2026-12-31" in table["cn-soybeans"]
        assert (
            "US: fulfilled" in table["us-fentanyl-tariff-cut"]
            and "China: progress" in table["us-fentanyl-tariff-cut"]
        )
        assert "broken" in table["cn-rare-earths"] and "awaiting corroboration" in table["cn-rare-earths"]
        assert "stated by US only" in table["cn-rare-earths"]
        assert "<script>alert" not in page.text  # feed text is escaped
        china = rows((await c.get(f"{board.url}/", params={"party": "China"})).text)
        assert set(china) == {"cn-soybeans", "cn-rare-earths"}
        delayed = rows((await c.get(f"{board.url}/", params={"status": "delayed"})).text)
        assert set(delayed) == {"us-port-fees"}
        tariffs = rows((await c.get(f"{board.url}/", params={"category": "tariff"})).text)
        assert set(tariffs) == {"us-fentanyl-tariff-cut"}


async def test_commitment_page_shows_the_timeline(board: Running) -> None:
    async with client() as c:
        page = (await c.get(f"{board.url}/commitments/us-fentanyl-tariff-cut")).text
        manual = (await c.get(f"{board.url}/commitments/us-port-fees")).text
        soy = (await c.get(f"{board.url}/commitments/cn-soybeans")).text
        missing = await c.get(f"{board.url}/commitments/no-such-thing")
    assert 'id="timeline"' in page
    assert "cut to 10% took effect, reported by AP and BBC" in page
    assert "Corroborated by 2 publishers: apnews.com, bbc.co.uk" in page
    assert "The sentence from whitehouse.gov that decided fulfilled." in page
    assert "confidence 0.90" in page and "official (US)" in page
    assert 'href="https://apnews.com/us-fentanyl-tariff-cut/2025-11-10"' in page
    # The hostile report is listed, its script escaped and its javascript: link not made a link.
    assert "&lt;script&gt;" in page and HOSTILE_TITLE not in page
    assert not re.search(r'href="\s*java', page, re.I)
    # Newest first: the official Chinese word (12 Nov) comes before the change (10 Nov).
    assert page.index("mofcom.gov.cn") < page.index("cut to 10% took effect")
    assert "set by hand" in manual and "USTR says" in manual
    assert "set by hand" not in page
    assert (
        "<svg" in soy
        and 'class="reported"' in soy
        and 'class="pace"' in soy
        and "target 12 million tons" in soy
    )
    assert "reported 8 (67%)" in soy
    assert missing.status_code == 404


async def test_sources_and_alerts_pages(board: Running) -> None:
    async with client() as c:
        sources = (await c.get(f"{board.url}/sources")).text
        alerts = (await c.get(f"{board.url}/alerts")).text
    assert "failing x3" in sources and "HTTP 503 from the server" in sources and "Local wire" in sources
    assert "<code>mailto://***@127.0.0.1</code>: <strong>failed</strong>" in alerts
    assert "<code>json://***@127.0.0.1/hook</code>: <strong>sent</strong>" in alerts


async def test_api_agrees_with_status_json(board: Running) -> None:
    expected = [
        json.loads(line)
        for line in cli(
            "status", "--json", "--config-dir", str(board.config_dir), "--db", board.db_url
        ).splitlines()
    ]
    async with client() as c:
        listed = (await c.get(f"{board.url}/api/commitments")).json()["commitments"]
        one = (await c.get(f"{board.url}/api/commitments/us-fentanyl-tariff-cut")).json()
        sources = (await c.get(f"{board.url}/api/sources")).json()["sources"]
        alerts = (await c.get(f"{board.url}/api/alerts")).json()["alerts"]
        spec = (await c.get(f"{board.url}/api/openapi.json")).json()
        assert (await c.get(f"{board.url}/api/commitments/nope")).status_code == 404
    assert len(expected) == 4
    assert [{k: item[k] for k in expected[0]} for item in listed] == expected
    assert {k: one[k] for k in expected[1]} == expected[1]
    assert [e["type"] for e in one["timeline"]].count("change") == 1
    cli_sources = {
        s["name"]: s
        for s in map(
            json.loads,
            cli(
                "sources", "--json", "--config-dir", str(board.config_dir), "--db", board.db_url
            ).splitlines(),
        )
    }
    for s in sources:
        assert {k: s[k] for k in cli_sources[s["name"]]} == cli_sources[s["name"]]
    assert [a["state"] for a in alerts] == ["pending", "sent"]
    assert set(spec["paths"]) == {"/api/commitments", "/api/commitments/{id}", "/api/sources", "/api/alerts"}
    assert spec["openapi"].startswith("3.")


async def test_atom_feed_is_valid_and_links_to_the_board(board: Running) -> None:
    async with client() as c:
        response = await c.get(f"{board.url}/changes.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert any(link.rel == "self" and link.href == f"{board.url}/changes.atom" for link in feed.feed.links)
    ids = [e.link.rsplit("/", 1)[1] for e in feed.entries]
    assert ids == ["us-port-fees", "cn-soybeans", "us-fentanyl-tariff-cut"]  # newest first
    for entry in feed.entries:
        assert entry.link.startswith(f"{board.url}/commitments/")
        assert all(link.href.startswith(("http://", "https://")) for link in entry.links)
        assert "status moved from" in entry.summary
    assert "javascript" not in response.text.lower()


def test_export_atom_uses_the_base_url_and_drops_script_links(tmp_path: Path) -> None:
    config_dir, url = build_board_db(tmp_path)
    store = Store(url)
    try:  # a change whose supporting evidence carries the hostile link
        from monitor.store import EvidenceRow, StatusChangeRow

        with store.session() as s:
            hostile = s.exec(select(EvidenceRow).where(col(EvidenceRow.link).startswith("java"))).one()
            s.add(
                StatusChangeRow(
                    commitment_id="cn-rare-earths", from_status="pending", to_status="broken",
                    at=at("2026-06-01"), reason="test", evidence_ids=json.dumps([hostile.id]),
                )
            )  # fmt: skip
    finally:
        store.close()
    target = tmp_path / "changes.atom"
    with redirect_stderr(io.StringIO()):
        cli("export", "--format", "atom", "--base-url", "https://board.example/tm", "-o", str(target),
            "--config-dir", str(config_dir), "--db", url)  # fmt: skip
    out = target.read_text(encoding="utf-8")
    feed = feedparser.parse(out.encode())
    assert not feed.bozo and len(feed.entries) == 4
    assert feed.entries[0].link == "https://board.example/tm/commitments/cn-rare-earths"
    assert "java" not in out.lower()


def test_web_link_refuses_scripts_however_spelt() -> None:
    for bad in (
        "java\tscript:alert(1)",
        " javascript:x",
        "JAVASCRIPT:x",
        "java\nscript:x",
        "data:text/html,x",
        "http://",
    ):
        assert web_link(bad) is None, bad
    assert web_link("https://example.org/a?b=1") == "https://example.org/a?b=1"


async def test_wrong_host_is_refused(board: Running) -> None:
    async with client() as c:
        evil = await c.get(f"{board.url}/", headers={"Host": "rebind.example"})
        api = await c.get(f"{board.url}/api/commitments", headers={"Host": f"attacker.test:{board.web.port}"})
        fine = await c.get(f"{board.url}/healthz", headers={"Host": f"localhost:{board.web.port}"})
    assert evil.status_code in (400, 421) and api.status_code in (400, 421)
    assert fine.status_code == 200


def test_no_token_beyond_loopback_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(WebError, match="without a token"):
        endpoint_for("0.0.0.0:0", environ={})
    config_dir, url = build_board_db(tmp_path)
    err = io.StringIO()
    with redirect_stderr(err):
        code = main(["run", "--http", "0.0.0.0:0", "--config-dir", str(config_dir), "--db", url])
    assert code == 2
    assert "refusing to serve beyond loopback without a token" in err.getvalue()
    assert "Traceback" not in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1
    (tmp_path / "token").write_text("")
    with pytest.raises(WebError, match="empty"):
        endpoint_for("0.0.0.0:0", environ={"TRADE_MONITOR_WEB_TOKEN_FILE": str(tmp_path / "token")})


async def test_beyond_loopback_the_token_guards_the_board(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    token = __import__("monitor.web", fromlist=["load_token"]).load_token(
        {"TRADE_MONITOR_WEB_TOKEN_FILE": str(tmp_path / "token")}
    )
    assert token == TOKEN
    async for running in _serve(tmp_path, host="0.0.0.0", token=token):
        base = f"http://127.0.0.1:{running.web.port}"
        async with client() as c:
            assert (await c.get(f"{base}/healthz")).status_code == 200
            page = await c.get(f"{base}/")
            assert page.status_code == 303 and page.headers["location"].startswith("/login")
            assert (await c.get(f"{base}/api/commitments")).status_code == 401
            authed = await c.get(f"{base}/api/commitments", headers={"Authorization": f"Bearer {TOKEN}"})
            assert authed.status_code == 200
            wrong = await c.post(f"{base}/login", data={"token": "nope", "next": "/"})
            assert wrong.status_code == 403
            login = await c.post(f"{base}/login", data={"token": TOKEN, "next": "/sources"})
            assert login.status_code == 303 and login.headers["location"] == "/sources"
            assert (await c.get(f"{base}/sources")).status_code == 200  # the session cookie


async def test_override_form_needs_token_and_csrf_and_is_in_the_history(guarded: Running) -> None:
    page_url = f"{guarded.url}/commitments/cn-rare-earths"
    form_url = f"{page_url}/status"
    async with client() as c:
        page = await c.get(page_url)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf and c.cookies.get("tm_csrf") == csrf.group(1)
        good = {
            "csrf": csrf.group(1),
            "status": "broken",
            "note": "MOFCOM reimposed controls",
            "token": TOKEN,
        }
        assert (await c.post(form_url, data={**good, "csrf": "forged"})).status_code == 403
        assert (await c.post(form_url, data={**good, "token": "wrong"})).status_code == 403
        cross = await c.post(form_url, data=good, headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
        async with client() as stranger:  # no CSRF cookie at all
            assert (await stranger.post(form_url, data=good)).status_code == 403
        done = await c.post(form_url, data=good)
        assert done.status_code == 303 and done.headers["location"].endswith("?done=1")
        after = (await c.get(page_url)).text
    assert "set by hand" in after and "MOFCOM reimposed controls" in after
    changes, _ = guarded.store.history("cn-rare-earths")
    assert [(ch.from_status, ch.to_status, ch.kind) for ch in changes] == [("pending", "broken", "manual")]
    assert "MOFCOM reimposed controls (web board)" in changes[0].reason
    assert any(a.commitment_id == "cn-rare-earths" for a in guarded.store.alerts())
    history = cli(
        "history", "cn-rare-earths", "--config-dir", str(guarded.config_dir), "--db", guarded.db_url
    )
    assert "pending -> broken (manual)" in history


async def test_override_is_disabled_without_a_token(board: Running) -> None:
    async with client() as c:
        page = await c.get(f"{board.url}/commitments/us-port-fees")
        assert "Disabled: start the daemon with $TRADE_MONITOR_WEB_TOKEN" in page.text
        refused = await c.post(f"{board.url}/commitments/us-port-fees/status", data={"status": "broken"})
    assert refused.status_code == 403


def test_run_gives_one_line_errors_for_bad_address_and_busy_port(tmp_path: Path) -> None:
    config_dir, url = build_board_db(tmp_path)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        for address, words in (
            ("localhost", "expected HOST:PORT"),
            (f"127.0.0.1:{busy.getsockname()[1]}", "cannot listen on 127.0.0.1"),
        ):
            err = io.StringIO()
            with redirect_stderr(err):
                code = main(
                    ["run", "--http", address, "--no-watch", "--config-dir", str(config_dir), "--db", url]
                )
            assert code == 2, address
            text = err.getvalue().strip()
            assert words in text and "Traceback" not in text and len(text.splitlines()) == 1, text
    finally:
        busy.close()


def test_run_help_names_the_feed_and_the_board() -> None:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "/changes.atom" in out.getvalue() and "TRADE_MONITOR_WEB_TOKEN" in out.getvalue()


async def test_overview_pages_through_many_commitments(tmp_path: Path) -> None:
    config_dir, url = await asyncio.to_thread(build_board_db, tmp_path, 250)
    config = load_config(config_dir)
    store = Store(url)
    web = WebServer(Board(config=lambda: config, store=store), "127.0.0.1", 0)
    await web.start()
    try:
        async with client() as c:
            first = (await c.get(f"{web.url}/")).text
            third = (await c.get(f"{web.url}/", params={"page": "3"})).text
            china = (await c.get(f"{web.url}/", params={"party": "China", "page": "2"})).text
            api = (await c.get(f"{web.url}/api/commitments")).json()["commitments"]
    finally:
        await web.close()
        store.close()
    assert len(rows(first)) == 100 and "page 1 of 3" in first and 'rel="next"' in first
    assert list(rows(first))[:2] == ["cn-soybeans", "us-fentanyl-tariff-cut"]
    assert len(rows(third)) == 54 and "gen-0249" in rows(third)
    # Two China commitments are hand-written and half the 250 generated: 127 in all, 27 on page 2.
    assert len(rows(china)) == 27 and 'href="/?party=China&amp;page=1"' in china
    assert len(api) == 254  # the API is not paginated


async def test_start_up_log_names_the_feed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="monitor.web")
    async for running in _serve(tmp_path):
        line = next(r.getMessage() for r in caplog.records if r.name == "monitor.web")
        assert running.url in line and "/changes.atom" in line and "/api" in line
