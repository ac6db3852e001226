"""Config loading: the shipped files are valid, and every kind of mistake names its file and line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import load_config, parse_duration, redact_url
from monitor.errors import ConfigError

EXPECTED_IDS = {
    "us-fentanyl-tariff-cut",
    "us-reciprocal-tariff-truce",
    "us-301-exclusions-extension",
    "us-affiliates-rule-suspension",
    "us-port-fees-suspension",
    "cn-port-fees-suspension",
    "cn-retaliatory-tariff-suspension",
    "cn-rare-earth-controls-suspension",
    "cn-gallium-germanium-ban-suspension",
    "cn-soybean-purchases-2025",
    "cn-soybean-purchases-2026",
    "cn-fentanyl-precursor-controls",
    "cn-nexperia-exports",
    "trump-beijing-visit",
    "xi-us-state-visit",
}


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _problems(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    return [str(p) for p in info.value.problems]


def test_shipped_config_has_the_fifteen_commitments() -> None:
    config = load_config(Path(__file__).resolve().parents[1] / "config")
    assert {c.id for c in config.commitments} == EXPECTED_IDS
    assert config.commitment("cn-soybean-purchases-2025").target is not None
    assert all(c.terms.aliases for c in config.commitments)


def test_misspelt_key_names_file_line_and_suggests(config_dir: Path) -> None:
    path = config_dir / "watchlist.yaml"
    path.write_text(path.read_text().replace("    title: Trump visits", "    titel: Trump visits", 1))
    line = _line_of(path, "titel: Trump visits")
    problems = _problems(config_dir)
    assert any(
        f"watchlist.yaml:{line}:" in p and "unknown key 'titel'" in p and "did you mean 'title'" in p
        for p in problems
    ), problems


def test_wrong_type_names_line(config_dir: Path) -> None:
    path = config_dir / "watchlist.yaml"
    path.write_text(path.read_text().replace("due: 2026-04-30", "due: next spring", 1))
    line = _line_of(path, "due: next spring")
    problems = _problems(config_dir)
    assert any(f"watchlist.yaml:{line}:" in p and ".due]" in p for p in problems), problems


def test_duplicate_id_is_rejected(config_dir: Path) -> None:
    path = config_dir / "watchlist.yaml"
    path.write_text(path.read_text().replace("id: xi-us-state-visit", "id: trump-beijing-visit", 1))
    line = _line_of(path, "id: trump-beijing-visit")  # first occurrence is the original
    problems = _problems(config_dir)
    assert any("duplicate id 'trump-beijing-visit'" in p for p in problems), problems
    assert not any(f"watchlist.yaml:{line}:" in p for p in problems if "duplicate" in p)


def test_bad_source_url_names_line(config_dir: Path) -> None:
    path = config_dir / "sources.yaml"
    path.write_text(path.read_text().replace("url: https://japantoday.com/feed", "url: japantoday feed", 1))
    line = _line_of(path, "url: japantoday feed")
    problems = _problems(config_dir)
    assert any(f"sources.yaml:{line}:" in p and "not an http(s) URL" in p for p in problems), problems


def test_yaml_syntax_error_names_line(config_dir: Path) -> None:
    path = config_dir / "sources.yaml"
    text = path.read_text().replace("  - name: CNA\n", "  - name: CNA\n   bad: [unclosed\n", 1)
    path.write_text(text)
    problems = _problems(config_dir)
    assert len(problems) == 1 and re.search(r"sources\.yaml:\d+: YAML syntax error", problems[0]), problems


def test_bad_apprise_url_is_rejected_without_leaking_the_token(config_dir: Path) -> None:
    (config_dir / "notify.yaml").write_text("version: 1\nurls:\n  - nosuchservice://user:s3cr3t@host/x\n")
    problems = _problems(config_dir)
    assert any("notify.yaml:3:" in p and "Apprise does not understand" in p for p in problems), problems
    assert not any("s3cr3t" in p for p in problems)


def test_yaml_1_2_keeps_country_code_no_a_string(config_dir: Path) -> None:
    path = config_dir / "watchlist.yaml"
    text = path.read_text().replace("party: China\n    category: visit", "party: NO\n    category: visit", 1)
    # a party keyed NO (Norway) is a string too, so the commitment's party is a configured one
    path.write_text(text.replace("\nparties:\n", "\nparties:\n  NO:\n    aliases: [Norway]\n", 1))
    config = load_config(config_dir)
    assert config.commitment("xi-us-state-visit").party == "NO"
    assert "NO" in config.watchlist.parties


def test_dates_before_announcement_are_rejected(config_dir: Path) -> None:
    path = config_dir / "watchlist.yaml"
    path.write_text(path.read_text().replace("due: 2026-04-30", "due: 2025-01-01", 1))
    problems = _problems(config_dir)
    assert any("due 2025-01-01 is before announced 2025-11-24" in p for p in problems), problems


def test_durations_and_redaction() -> None:
    assert parse_duration("15m") == 900 and parse_duration(30) == 30 and parse_duration("1d") == 86400
    with pytest.raises(ValueError):
        parse_duration("soon")
    redacted = redact_url("tgram://123456:ABCDEF-token@chat/98765")
    assert "1234" not in redact_url("discord://1234/abcd")
    assert "ABCDEF" not in redacted and "98765" not in redacted and redacted.startswith("tgram://")


def test_check_config_cli_exit_codes(config_dir: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "check-config", "--config-dir", str(config_dir)],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "15 commitments" in ok.stdout
    path = config_dir / "watchlist.yaml"
    path.write_text(path.read_text().replace("    category: tariff", "    categry: tariff", 1))
    bad = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "check-config", "--config-dir", str(config_dir)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert re.search(r"watchlist\.yaml:\d+: .*unknown key 'categry'", bad.stderr), bad.stderr


def test_fast_reader_reads_yaml_1_2_like_the_round_trip_reader(tmp_path: Path) -> None:
    """Config files are read through libyaml when valid; its scalars must be YAML 1.2's (as ruamel's
    round-trip reader, which reports the lines of problems, reads them), not PyYAML's 1.1."""
    from monitor.config import _plain, read_yaml, read_yaml_fast

    path = tmp_path / "x.yaml"
    path.write_text(
        "a: yes\nb: 012\nc: 1:30\nd: 0o17\ne: 1.5e3\nf: on\ng: 2025-01-02\nh: ~\ni: True\n"
        "j: [0x1f, -3, +4, .5, null, '012']\nk: {x: no}\n"
    )
    fast = read_yaml_fast(path)
    assert fast == _plain(read_yaml(path))
    assert fast["a"] == "yes" and fast["b"] == 12 and fast["c"] == "1:30" and fast["f"] == "on"


def test_a_duplicate_yaml_key_is_still_reported_with_its_line(config_dir: Path) -> None:
    """libyaml keeps the last of two equal keys silently; the config is then read the exact way."""
    path = config_dir / "sources.yaml"
    text = path.read_text()
    path.write_text(text.replace("version: 1\n", "version: 1\nversion: 1\n", 1))
    problems = _problems(config_dir)
    assert any("sources.yaml:" in p and "duplicate" in p.lower() for p in problems), problems
