"""`trade-monitor sources add|remove|list`: round-trip edits of sources.yaml, validated by a real fetch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.feedserver import FeedServer, rss


def _cli(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args, "--config-dir", str(config_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_add_checks_the_feed_keeps_comments_and_remove_undoes_it(config_dir: Path) -> None:
    path = config_dir / "sources.yaml"
    before = path.read_text()
    with FeedServer() as server:
        server.set(
            "/feed.xml", body=rss(4, title="Local wire"), headers={"Content-Type": "application/rss+xml"}
        )
        server.set(
            "/page.html", body=b"<html><body>hello</body></html>", headers={"Content-Type": "text/html"}
        )
        added = _cli(config_dir, "sources", "add", "--name", "Local wire", "--url", server.url("/feed.xml"))
        assert added.returncode == 0, added.stderr
        assert "with 4 entries" in added.stdout and "added Local wire" in added.stdout
        text = path.read_text()
        assert text.startswith(before.rstrip("\n").split("\nsearch:")[0])  # comments and order kept
        assert "# News searches that give each commitment its past" in text
        listed = _cli(config_dir, "sources", "list")
        assert f"Local wire\t{server.url('/feed.xml')}\t-" in listed.stdout
        assert "Google News search" not in listed.stdout or "\tsearch" in listed.stdout
        refused = _cli(config_dir, "sources", "add", "--name", "Page", "--url", server.url("/page.html"))
        assert refused.returncode != 0 and "not a feed" in refused.stdout + refused.stderr
        assert "Page" not in path.read_text()
        duplicate = _cli(
            config_dir, "sources", "add", "--name", "Local wire", "--url", server.url("/feed.xml")
        )
        assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    removed = _cli(config_dir, "sources", "remove", "Local wire")
    assert removed.returncode == 0, removed.stderr
    assert path.read_text() == before  # a round trip: byte for byte what it was
    missing = _cli(config_dir, "sources", "remove", "Nope")
    assert missing.returncode != 0 and "no source named 'Nope'" in missing.stderr


def test_sources_without_an_action_still_shows_health(config_dir: Path, tmp_path: Path) -> None:
    result = _cli(config_dir, "sources", "--db", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("NAME") and "SCMP China" in result.stdout


def test_adding_to_a_comments_only_sources_yaml_writes_the_source(tmp_path: Path) -> None:
    from ruamel.yaml.comments import CommentedMap

    from monitor.watchlist_edit import add_source

    path = tmp_path / "sources.yaml"
    item = CommentedMap(name="Local wire", url="http://127.0.0.1:9/feed.xml")
    text = add_source("# feeds go here\n", path, item)
    assert "name: Local wire" in text and "url: http://127.0.0.1:9/feed.xml" in text
