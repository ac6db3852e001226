"""Works from anywhere: the config search, `init`, global options, the shipped config and labelled set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _cli(
    args: list[str], cwd: Path, home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed entry point, run as a user would: from a directory with no ./config, with its
    own home so the user config directory is private to the test."""
    environ = {k: v for k, v in os.environ.items() if k not in ("TRADE_MONITOR_CONFIG", "TRADE_MONITOR_DB")}
    environ.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
        }
    )
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def elsewhere(tmp_path: Path) -> tuple[Path, Path]:
    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    return cwd, tmp_path / "home"


def test_init_then_status_from_a_directory_without_config(elsewhere: tuple[Path, Path]) -> None:
    cwd, home = elsewhere
    result = _cli(["init"], cwd, home)
    assert result.returncode == 0, result.stderr
    written = home / ".config" / "trade-monitor" / "watchlist.yaml"
    assert written.is_file() and written.read_text() == (ROOT / "config" / "watchlist.yaml").read_text()
    db = f"sqlite:///{cwd / 'db.sqlite'}"
    status = _cli(["status", "--db", db], cwd, home)
    assert status.returncode == 0, status.stderr
    assert "us-fentanyl-tariff-cut" in status.stdout and "COMMITMENT" in status.stdout
    # global options before the command work as well as after it
    before = _cli(["--db", db, "--config-dir", str(written.parent), "status", "--json"], cwd, home)
    assert before.returncode == 0, before.stderr
    assert '"commitment": "us-fentanyl-tariff-cut"' in before.stdout
    # a second init keeps the user's edits
    written.write_text(written.read_text() + "\n# my edit\n")
    again = _cli(["init"], cwd, home)
    assert "kept existing" in again.stdout and "# my edit" in written.read_text()


def test_init_into_a_named_directory(elsewhere: tuple[Path, Path]) -> None:
    cwd, home = elsewhere
    target = cwd / "mine"
    assert _cli(["init", str(target)], cwd, home).returncode == 0
    result = _cli(["check-config", "--config-dir", str(target)], cwd, home)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr


def test_no_config_anywhere_names_every_place_and_how_to_make_one(elsewhere: tuple[Path, Path]) -> None:
    cwd, home = elsewhere
    result = _cli(["status"], cwd, home)
    assert result.returncode != 0
    for place in (
        "--config-dir (not given)",
        "$TRADE_MONITOR_CONFIG (not set)",
        str(cwd / "config"),
        str(home / ".config" / "trade-monitor"),
    ):
        assert place in result.stderr, place
    assert "trade-monitor init" in result.stderr


def test_a_missing_explicit_config_dir_is_an_error_not_a_fall_through(elsewhere: tuple[Path, Path]) -> None:
    cwd, home = elsewhere
    assert _cli(["init"], cwd, home).returncode == 0  # a user config exists, but the user named another
    result = _cli(["status", "--config-dir", str(cwd / "typo")], cwd, home)
    assert result.returncode != 0 and "typo (--config-dir) does not exist" in result.stderr
    empty = cwd / "empty"
    empty.mkdir()
    result = _cli(["--config-dir", str(empty), "status"], cwd, home)
    assert result.returncode != 0 and "has no watchlist.yaml" in result.stderr


def test_a_missing_env_config_dir_is_an_error(elsewhere: tuple[Path, Path]) -> None:
    cwd, home = elsewhere
    result = _cli(["status"], cwd, home, env={"TRADE_MONITOR_CONFIG": str(cwd / "nope")})
    assert result.returncode != 0 and "($TRADE_MONITOR_CONFIG) does not exist" in result.stderr
    assert "trade-monitor init" in result.stderr


def test_search_order_env_before_dot_config(elsewhere: tuple[Path, Path]) -> None:
    cwd, home = elsewhere
    assert _cli(["init", str(cwd / "config")], cwd, home).returncode == 0
    assert _cli(["init", str(cwd / "other")], cwd, home).returncode == 0
    (cwd / "other" / "sources.yaml").write_text("version: 1\nsources: []\n")
    local = _cli(["check-config"], cwd, home)
    env = _cli(["check-config"], cwd, home, env={"TRADE_MONITOR_CONFIG": str(cwd / "other")})
    assert "config: OK" in local.stdout and "sources.yaml: 0 sources" not in local.stdout
    assert "other: OK" in env.stdout and "sources.yaml: 0 sources" in env.stdout


def test_demo_and_eval_need_no_config_or_data_path(elsewhere: tuple[Path, Path]) -> None:
    cwd, home = elsewhere
    demo = _cli(["demo"], cwd, home)
    assert demo.returncode == 0, demo.stderr
    assert _cli(["init"], cwd, home).returncode == 0
    result = _cli(["eval", "--errors", "0"], cwd, home)
    assert result.returncode == 0, result.stderr
    assert "F1" in result.stdout or "f1" in result.stdout.lower()
    missing = _cli(["eval", "--data", str(cwd / "none.jsonl")], cwd, home)
    assert missing.returncode == 2 and "pass --data FILE" in missing.stderr


def test_the_shipped_config_is_the_repository_config() -> None:
    from monitor.config import load_config, shipped_config_dir

    shipped = load_config(shipped_config_dir())
    assert [c.id for c in shipped.commitments] == [c.id for c in load_config(ROOT / "config").commitments]
    assert shipped.sources.search and "{query}" in shipped.sources.search[0].url
