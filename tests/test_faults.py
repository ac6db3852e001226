"""Faults and rough edges an outside probe found (issue 13): each test here failed before its fix.

Delivery runs against real local receivers through Apprise, config checks against real files, and the
CLI through its real entry point.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import tomllib
from pathlib import Path

import pytest

from monitor.cli import main as cli_main
from monitor.config import load_config
from monitor.delivery import Alerter, Deliverer, capped_list
from monitor.errors import ConfigError
from monitor.observability import RedactingFilter, Redactor, RepeatLimitFilter, secrets_of_url
from monitor.parse import parse_feed
from monitor.store import Store
from monitor.tracking import Tracker
from tests.conftest import ROOT, write_notify
from tests.receivers import JsonReceiver

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    root.handlers[:] = before


def _problems(config_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    return [str(p) for p in info.value.problems]


def _tracked(config_dir: Path, sqlite_url: str) -> tuple[Store, Tracker, Alerter]:
    config = load_config(config_dir)
    store = Store(sqlite_url)
    store.sync_commitments([c.id for c in config.commitments], T0)
    tracker = Tracker(config.commitments, config.watchlist.policy, config.alerts.reminder_days)
    return store, tracker, Alerter(config)


# --- 2: an empty or missing notify.yaml is an error, never a silent console ---------------------------


@pytest.mark.parametrize("text", ["", "# nothing here\n", "version: 1\n", "version: 1\nurls:\n"])
def test_an_empty_notify_yaml_is_rejected_with_its_line(config_dir: Path, text: str) -> None:
    (config_dir / "notify.yaml").write_text(text)
    problems = _problems(config_dir)
    assert any(re.match(rf"{re.escape(str(config_dir / 'notify.yaml'))}:\d+:", p) for p in problems), problems
    assert any("urls: []" in p for p in problems), problems


def test_a_missing_notify_yaml_fails_check_config(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "notify.yaml").unlink()
    assert cli_main(["check-config", "--config-dir", str(config_dir)]) == 2
    assert "notify.yaml is missing" in capsys.readouterr().err


def test_console_delivery_is_recorded_as_console_not_sent(config_dir: Path, sqlite_url: str) -> None:
    import io

    (config_dir / "notify.yaml").write_text("version: 1\nurls: []\n")
    store, tracker, alerter = _tracked(config_dir, sqlite_url)
    with store.session() as s:
        event = tracker.set_status(s, "cn-nexperia-exports", "fulfilled", "seen", T0)
        assert event is not None
        alerter.enqueue(s, [event], T0)
    console = io.StringIO()
    asyncio.run(Deliverer(store, load_config(config_dir), console=console).deliver_due(T0))
    (alert,) = store.alerts()
    assert alert.state == "console"
    assert store.deliveries(alert.id or 0) == []  # no target row claims a delivery
    assert "cn-nexperia-exports" in console.getvalue() or "Nexperia" in console.getvalue()
    store.close()


# --- 3: a send that timed out may have arrived: its resend is flagged ---------------------------------


def test_a_timed_out_send_is_resent_flagged_as_a_possible_repeat(config_dir: Path, sqlite_url: str) -> None:
    with JsonReceiver(delay=1.5) as slow:
        write_notify(config_dir, [slow.url(query="rto=0.5")])  # Apprise gives up reading after 0.5 s
        store, tracker, alerter = _tracked(config_dir, sqlite_url)
        with store.session() as s:
            event = tracker.set_status(s, "cn-nexperia-exports", "in_progress", "seen", T0)
            assert event is not None
            alerter.enqueue(s, [event], T0)
        deliverer = Deliverer(store, load_config(config_dir), rng=lambda: 0.5)
        asyncio.run(deliverer.deliver_due(T0))
        slow.delay = 0.0
        asyncio.run(deliverer.deliver_due(T0 + dt.timedelta(hours=1)))
        store.close()
        for _ in range(50):  # the first request is still being answered, after Apprise gave up on it
            if len(slow.posts) == 2:
                break
            time.sleep(0.1)
        posts = slow.posts
    assert len(posts) == 2
    flags = sorted(str(p.headers.get("x-trade-monitor-redelivery")) for p in posts)
    assert flags == ["1", "None"]
    assert posts[0].key == posts[1].key


# --- 4: tokens in the host or port position of any Apprise scheme -------------------------------------


def test_a_telegram_bot_token_in_the_port_position_is_a_secret() -> None:
    secrets = secrets_of_url("tgram://123456789:AAHtokenSECRETvalue/987654321")
    assert "AAHtokenSECRETvalue" in secrets
    redactor = Redactor()
    redactor.add(secrets)
    assert "AAHtokenSECRETvalue" not in redactor.redact(
        "POST https://api.telegram.org/bot123456789:AAHtokenSECRETvalue/x"
    )


def _template_urls() -> list[tuple[str, str, str]]:
    """(scheme, url, secret) for every Apprise template whose private token sits in the host or port."""
    import apprise

    out = []
    for schema in apprise.Apprise().details(show_requirements=False)["schemas"]:
        details = schema["details"]
        tokens = details["tokens"]
        schemes = [*(schema.get("secure_protocols") or ()), *(schema.get("protocols") or ())]
        if not schemes:
            continue
        for template in details["templates"]:
            authority = template.split("://", 1)[-1].split("/", 1)[0]
            for name in re.findall(r"{(\w+)}", authority.rsplit("@", 1)[-1]):
                if not tokens.get(name, {}).get("private"):
                    continue
                secret = f"Zq{abs(hash((template, name))) % 10**8:08d}Secret"
                url = re.sub(
                    r"{(\w+)}", lambda m, n=name, v=secret: v if m.group(1) == n else "x1y2z3", template
                )
                out.append((schemes[0], url.replace("{schema}", schemes[0]), secret))
    return out


def test_every_apprise_secret_in_host_or_port_position_is_masked() -> None:
    cases = _template_urls()
    assert len(cases) >= 20  # Apprise has dozens of such services; an empty sweep would prove nothing
    leaks = [
        (scheme, url) for scheme, url, secret in cases if not any(secret in s for s in secrets_of_url(url))
    ]
    assert leaks == []


def test_debug_logs_of_a_telegram_target_hide_its_token(caplog: pytest.LogCaptureFixture) -> None:
    redactor = Redactor()
    redactor.add_url("tgram://123456789:AAHtokenSECRETvalue/987654321")
    handler_filter = RedactingFilter(redactor)
    record = logging.LogRecord(
        "apprise", logging.DEBUG, __file__, 1, "GET %s", ("bot123456789:AAHtokenSECRETvalue",), None
    )
    handler_filter.filter(record)
    assert "AAHtokenSECRETvalue" not in record.getMessage()


# --- 5: one impossible character reference does not reject the feed -----------------------------------


@pytest.mark.parametrize("reference", ["&#xD800;", "&#x110000;", "&#55296;", "&#99999999999;"])
def test_good_items_survive_an_impossible_character_reference(reference: str) -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>first good item</title><link>https://example.org/1</link></item>"
        f"<item><title>broken {reference} title</title><link>https://example.org/2</link></item>"
        "<item><title>second good item</title><link>https://example.org/3</link></item>"
        "</channel></rss>"
    ).encode()
    titles = [e.title for e in parse_feed(body).entries]
    assert titles[0] == "first good item" and titles[-1] == "second good item"
    assert len(titles) == 3 and "broken" in titles[1]


# --- 7: a log line that loops under load is rate-limited ----------------------------------------------


def test_accept_errors_are_logged_once_per_interval_with_a_count() -> None:
    clock = [0.0]
    limiter = RepeatLimitFilter(interval=60, clock=lambda: clock[0])

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, (), None)

    passed = [limiter.filter(record("socket.accept() out of system resource\nsocket: x")) for _ in range(75)]
    assert passed.count(True) == 1
    clock[0] = 61
    later = record("socket.accept() out of system resource")
    assert limiter.filter(later) and "74 more like this" in str(later.msg)
    assert limiter.filter(record("an unrelated error")) and limiter.filter(record("an unrelated error"))


def test_the_systemd_unit_raises_the_file_descriptor_limit() -> None:
    unit = (ROOT / "deploy" / "trade-monitor.service").read_text()
    match = re.search(r"^LimitNOFILE=(\d+)$", unit, re.M)
    assert match and int(match.group(1)) >= 16384


# --- 8: large configs and summaries --------------------------------------------------------------------


def test_a_summary_names_its_first_items_and_counts_the_rest() -> None:
    items = [f"commitment-{i} now delayed" for i in range(3012)]
    text = capped_list(items, "`trade-monitor status` lists them all")
    assert len(text) < 2000
    assert "commitment-0 now delayed" in text and "and 2992 more" in text and "trade-monitor status" in text
    assert capped_list(items[:3], "x") == "; ".join(items[:3])


def test_commitment_lookup_uses_the_id() -> None:
    config = load_config(ROOT / "config")
    assert config.commitment("trump-beijing-visit").id == "trump-beijing-visit"
    with pytest.raises(KeyError):
        config.commitment("no-such-commitment")


# --- 9: severity reaches the receiver ------------------------------------------------------------------


def test_a_broken_commitment_arrives_as_a_failure_not_info(config_dir: Path, sqlite_url: str) -> None:
    with JsonReceiver() as rx:
        write_notify(config_dir, [rx.url()])
        store, tracker, alerter = _tracked(config_dir, sqlite_url)
        with store.session() as s:
            broken = tracker.set_status(s, "cn-nexperia-exports", "broken", "exports halted", T0)
            progress = tracker.set_status(s, "trump-beijing-visit", "in_progress", "dates set", T0)
            assert broken and progress
            alerter.enqueue(s, [broken, progress], T0)
        asyncio.run(Deliverer(store, load_config(config_dir)).deliver_due(T0))
        store.close()
        types = {p.title: p.body.get("type") for p in rx.posts}
    assert len(types) == 2
    assert sorted(types.values()) == ["failure", "info"]


# --- 10: history reads in the order the changes were made ----------------------------------------------


def test_history_lists_a_chain_of_changes_in_order(
    config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store, tracker, _alerter = _tracked(config_dir, sqlite_url)
    with store.session() as s:
        tracker.set_status(
            s, "cn-nexperia-exports", "expired", "calendar", dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
        )
        tracker.set_status(
            s, "cn-nexperia-exports", "broken", "late report", dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        )
    store.close()
    assert (
        cli_main(["history", "cn-nexperia-exports", "--config-dir", str(config_dir), "--db", sqlite_url]) == 0
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if "STATUS" in line]
    assert [re.search(r"STATUS (\S+ -> \S+)", line).group(1) for line in lines] == [  # type: ignore[union-attr]
        "pending -> expired",
        "expired -> broken",
    ]
    assert lines[1].startswith("2026-12-01")  # each change still shows its own date


# --- 12: check-config catches what it used to wave through ---------------------------------------------


def test_a_missing_sources_yaml_is_an_error(config_dir: Path) -> None:
    (config_dir / "sources.yaml").unlink()
    assert any("sources.yaml is missing" in p for p in _problems(config_dir))


def test_routes_and_mutes_naming_unknown_commitments_are_errors_with_lines(config_dir: Path) -> None:
    (config_dir / "alerts.yaml").write_text(
        "version: 1\n"
        "routes:\n"
        "  - name: farm\n"
        "    match:\n"
        "      commitments: [cn-soybean-purchases-2027]\n"
        "      categories: [purchases]\n"
        "    tags: [farm]\n"
        "mute:\n"
        "  trump-bejing-visit: 2026-12-31\n"
    )
    problems = "\n".join(_problems(config_dir))
    assert "alerts.yaml:5:" in problems and "no commitment 'cn-soybean-purchases-2027'" in problems
    assert "alerts.yaml:6:" in problems and "no category 'purchases'" in problems
    assert "alerts.yaml:9:" in problems and "did you mean 'trump-beijing-visit'" in problems


def test_a_notify_tag_no_route_uses_is_warned_about(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config_dir / "notify.yaml").write_text(
        "version: 1\nurls:\n  - json://127.0.0.1:9/hook:\n      - tag: farm\n"
        "  - json://127.0.0.1:9/ops:\n      - tag: ops\n"
    )
    assert cli_main(["check-config", "--config-dir", str(config_dir)]) == 0
    err = capsys.readouterr().err
    assert "notify.yaml:3: warning: no route in alerts.yaml uses the tag 'farm'" in err
    assert "'ops'" not in err


def test_an_empty_watchlist_and_an_impossible_date_get_lines(config_dir: Path) -> None:
    path = config_dir / "watchlist.yaml"
    text = path.read_text()
    path.write_text("")
    assert any(p.startswith(f"{path}:1:") for p in _problems(config_dir))
    bad = text.replace("due: 2025-11-10", "due: 2025-02-30", 1)
    path.write_text(bad)
    line = next(i for i, row in enumerate(bad.splitlines(), 1) if "2025-02-30" in row)
    assert any(p.startswith(f"{path}:{line}:") and "day is out of range" in p for p in _problems(config_dir))


def test_watchlist_add_with_a_bad_link_cites_no_line_beyond_the_file(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines_in_file = len((config_dir / "watchlist.yaml").read_text().splitlines())
    args = ["watchlist", "add", "--config-dir", str(config_dir), "--id", "x-new", "--title", "A new one"]
    args += ["--party", "US", "--category", "tariff", "--announced", "2025-11-01", "--link", "ftp://x"]
    assert cli_main(args) == 2
    err = capsys.readouterr().err
    assert "link" in err and "the edit, not saved" in err
    cited = [int(n) for n in re.findall(r"watchlist\.yaml:(\d+):", err)]
    assert all(n <= lines_in_file for n in cited), err


# --- 13: smaller ------------------------------------------------------------------------------------------


def test_alerts_options_have_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main(["alerts", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "delivery state" in out and "at most this many alerts" in out


def test_the_image_pins_its_base_and_installs_locked_dependencies_first() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", dockerfile, re.M)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))
    assert dockerfile.index("constraints.txt") < dockerfile.index("COPY monitor")
    locked = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "deploy" / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        re.split(r"[<>=\[;! ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in project["dependencies"]
    }
    assert wanted <= locked, f"not locked: {sorted(wanted - locked)}"


# --- 6: a script link that a browser would run never gets into the store ------------------------------


@pytest.mark.parametrize(
    "link", ["java\tscript:alert(1)", "jav\nascript:alert(1)", " \x01javascript:alert(1)"]
)
def test_script_links_hidden_by_whitespace_are_dropped_at_ingest(link: str) -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>sneaky</title><link>{link}</link><guid>g1</guid></item>"
        "</channel></rss>"
    ).encode()
    (entry,) = parse_feed(body).entries
    assert entry.link == ""


# --- 13: status --json says null where the table says "-" ---------------------------------------------


def test_status_json_uses_null_for_nothing(
    config_dir: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert cli_main(["status", "--json", "--config-dir", str(config_dir), "--db", sqlite_url]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 15
    assert all("-" not in record.values() for record in records)
    fresh = next(r for r in records if r["commitment"] == "cn-nexperia-exports")
    assert fresh["since"] is None and fresh["last_evidence"] is None and fresh["unconfirmed"] is None
    assert cli_main(["status", "--config-dir", str(config_dir), "--db", sqlite_url]) == 0
    assert " - " in capsys.readouterr().out  # the table still shows a dash
