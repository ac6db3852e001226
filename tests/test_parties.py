"""The parties come from the watchlist: a US-Japan watchlist works with no code change, a watchlist
without `parties:` reads the shipped US and China, and a bad entry names its file and line."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.evidence import EvidenceEngine, Report
from monitor.evidence.parties import DEFAULT_PARTIES
from tests.test_config import _line_of, _problems

ROOT = Path(__file__).resolve().parents[1]

US_JAPAN = """\
version: 1
parties:
  US:
    aliases: [U.S., United States, Washington, White House, USTR]
    leaders: {Trump: [Donald Trump, President Trump]}
  Japan:
    aliases: [Japanese, Tokyo]
    leaders: {Takaichi: [Sanae Takaichi, Prime Minister Takaichi]}
    official: [mofa.go.jp, meti.go.jp]
commitments:
  - id: us-japan-auto-tariff
    title: US cuts the tariff on Japanese cars to 15%
    party: US
    category: tariff
    announced: 2025-07-22
    effective: 2025-09-16
    target: {value: 15, unit: percent}
    terms:
      aliases: [auto tariff, auto tariffs, car tariffs]
      require:
        - [tariff, tariffs]
  - id: jp-us-investment
    title: Japan invests 550 billion dollars in the United States
    party: Japan
    category: investment
    announced: 2025-07-22
    terms:
      aliases: [investment fund, investment vehicle, 550 billion]
      require:
        - [Japan]
        - [US]
  - id: takaichi-us-visit
    title: Takaichi visits Washington
    party: Japan
    category: visit
    announced: 2025-10-28
    terms:
      aliases: [Takaichi]
      require:
        - [US]
"""


@pytest.fixture
def us_japan(tmp_path: Path) -> Path:
    """A config directory whose watchlist is about the US and Japan only."""
    d = tmp_path / "us-japan"
    d.mkdir()
    (d / "watchlist.yaml").write_text(US_JAPAN)
    (d / "sources.yaml").write_text("version: 1\nsources: []\n")
    (d / "notify.yaml").write_text("urls: []\n")
    return d


def _report(title: str, summary: str = "", link: str = "", source: str = "") -> Report:
    when = dt.datetime(2025, 11, 3, 12, tzinfo=dt.UTC)
    return Report("r", title, summary, when, link=link, source=source)


def _signals(engine: EvidenceEngine, report: Report) -> dict[str, str]:
    return {m.commitment: m.signal for m in engine.match(report)}


def test_us_japan_watchlist_matches_without_code_change(us_japan: Path) -> None:
    engine = EvidenceEngine.for_watchlist(load_config(us_japan).watchlist)
    # "Japan" in a terms group brings its aliases: "Tokyo" and "Washington" complete the subject
    got = _signals(engine, _report("Tokyo pours money into its investment fund for Washington projects"))
    assert "jp-us-investment" in got
    # a configured leader is the traveller, a configured place the destination
    assert _signals(engine, _report("Takaichi arrives in Washington for talks with Trump")) == {
        "takaichi-us-visit": "fulfilled"
    }
    assert _signals(engine, _report("US cuts auto tariffs on Japanese cars to 15%")) == {
        "us-japan-auto-tariff": "fulfilled"
    }


def test_a_third_country_is_the_world_without_the_parties(us_japan: Path) -> None:
    """China is a third country for a US-Japan watchlist: US tariffs on Chinese cars say nothing about
    the Japanese ones. With the shipped parties instead, China is a party and the sentence matches."""
    watchlist = load_config(us_japan).watchlist
    report = _report("US cuts auto tariffs on Chinese cars to 15%")
    exp = {e.commitment: e for e in EvidenceEngine.for_watchlist(watchlist).explain(report)}
    assert not exp["us-japan-auto-tariff"].matched
    assert any("not the counterpart" in r for r in exp["us-japan-auto-tariff"].reasons)
    shipped = EvidenceEngine(watchlist.commitments, watchlist.category_defaults)
    assert "us-japan-auto-tariff" in _signals(shipped, report)


def test_official_hints_come_from_the_parties(us_japan: Path) -> None:
    engine = EvidenceEngine.for_watchlist(load_config(us_japan).watchlist)
    title = "US cuts auto tariffs on Japanese cars to 15%"
    official = engine.explain(_report(title, link="https://www.mofa.go.jp/press/release"))
    plain = engine.explain(_report(title, link="https://news.example.com/autos"))
    assert any("official source" in r for e in official for r in e.reasons)
    assert not any("official source" in r for e in plain for r in e.reasons)


def test_match_cli_reads_the_parties(us_japan: Path) -> None:
    line = json.dumps({"id": "t1", "title": "Takaichi arrives in Washington", "published": "2025-11-03"})
    out = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "match", "--config-dir", str(us_japan)],
        input=line + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert [m["commitment"] for m in json.loads(out)["matches"]] == ["takaichi-us-visit"]


def test_a_watchlist_without_parties_reads_the_shipped_us_and_china(config_dir: Path) -> None:
    path = config_dir / "watchlist.yaml"
    text = path.read_text()
    start, end = text.index("\nparties:\n"), text.index("\ncommitments:\n")
    path.write_text(text[:start] + text[end:])
    old = load_config(config_dir).watchlist
    assert old.parties == {}
    shipped = load_config(ROOT / "config").watchlist
    assert shipped.parties == DEFAULT_PARTIES  # the defaults are the shipped watchlist's parties
    report = _report("China suspends port fees on US ships", "Beijing said on Monday it would suspend them.")
    assert _signals(EvidenceEngine.for_watchlist(old), report) == _signals(
        EvidenceEngine.for_watchlist(shipped), report
    )


def test_a_bad_parties_entry_names_file_and_line(us_japan: Path) -> None:
    path = us_japan / "watchlist.yaml"
    path.write_text(US_JAPAN.replace("aliases: [Japanese, Tokyo]", "aliasses: [Japanese, Tokyo]"))
    line = _line_of(path, "aliasses:")
    problems = _problems(us_japan)
    assert any(f"watchlist.yaml:{line}:" in p and "did you mean 'aliases'" in p for p in problems), problems
    path.write_text(US_JAPAN.replace("official: [mofa.go.jp, meti.go.jp]", "official: [mofa.go.jp, ' ']"))
    line = _line_of(path, "official: [mofa.go.jp")
    problems = _problems(us_japan)
    assert any(f"watchlist.yaml:{line}:" in p and "parties.Japan.official" in p for p in problems), problems


def test_a_party_missing_from_parties_or_named_twice_is_an_error(us_japan: Path) -> None:
    path = us_japan / "watchlist.yaml"
    text = US_JAPAN.replace("    party: Japan\n    category: visit", "    party: Japn\n    category: visit")
    path.write_text(text.replace("aliases: [Japanese, Tokyo]", "aliases: [Japanese, Tokyo, Washington]"))
    problems = _problems(us_japan)
    party_line = _line_of(path, "party: Japn")
    alias_line = _line_of(path, "aliases: [Japanese, Tokyo, Washington]")
    assert any(f":{party_line}:" in p and "party 'Japn' is not under 'parties:'" in p for p in problems)
    assert any(f":{alias_line}:" in p and "'Washington' already names party 'US'" in p for p in problems)
    out = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "check-config", "--config-dir", str(us_japan)],
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0 and f"watchlist.yaml:{party_line}:" in out.stdout + out.stderr


def test_official_hints_match_whole_words_only() -> None:
    """The hint "USTR" marks a source as official, but not inside "industry" (a news section)."""
    engine = EvidenceEngine.for_watchlist(load_config(ROOT / "config").watchlist)
    official = engine.parties.official
    assert official.search("USTR")
    assert official.search("https://ustr.gov/about-us/policy-offices/press-office")
    assert official.search("https://example.gov.cn/notice")
    assert not official.search("https://koreajoongangdaily.joins.com/news/2025-11-10/business/industry/x")
    assert not official.search("https://public.govdelivery.com/accounts/x")
