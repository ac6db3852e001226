"""Fixtures shared by the test suite: config copies, databases and the third-party corpus."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.receivers import JsonReceiver

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_CONFIG = ROOT / "config"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped config/ that a test may edit."""
    target = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, target)
    offline(target)
    return target


def offline(config_dir: Path) -> None:
    """Tests never reach the internet: the shipped search (Google News) points at a closed local port,
    and the first `run` does not backfill unless a test turns it on."""
    path = config_dir / "sources.yaml"
    text = path.read_text()
    text = text.replace("https://news.google.com/rss/search?q={query}", "http://127.0.0.1:9/search?q={query}")
    text = text.replace("on_first_run: true", "on_first_run: false")
    assert "news.google.com/rss/search?q={query}" not in text and "on_first_run: false" in text
    path.write_text(text)


def write_sources(config_dir: Path, sources: list[tuple[str, str, bool]]) -> None:
    """Replace sources.yaml with (name, url, official) entries."""
    lines = ["version: 1", "sources:"]
    for name, url, official in sources:
        lines += [f"  - name: {name}", f"    url: {url}", f"    official: {str(official).lower()}"]
    (config_dir / "sources.yaml").write_text("\n".join(lines) + "\n")


def write_notify(config_dir: Path, urls: list[str]) -> None:
    lines = ["version: 1", "urls:" if urls else "urls: []"] + [f"  - {u}" for u in urls]
    (config_dir / "notify.yaml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.sqlite'}"


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"third-party corpus not found at {CORPUS} (it is not shipped with the project)")
    return CORPUS


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards.

    Needs TRADE_MONITOR_TEST_PG (a URL whose role may CREATE DATABASE); .ci/run sets it after starting
    the server.
    """
    base = os.environ.get("TRADE_MONITOR_TEST_PG")
    if not base:
        pytest.skip("PostgreSQL not configured: set TRADE_MONITOR_TEST_PG (.ci/run does)")
    import psycopg

    admin_url = base
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at TRADE_MONITOR_TEST_PG: {exc}")
    name = f"tm_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def json_sink() -> Iterator[JsonReceiver]:
    """A local receiver behind Apprise's json:// (see tests/receivers.py)."""
    with JsonReceiver() as receiver:
        yield receiver
