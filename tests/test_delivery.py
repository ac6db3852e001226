"""Delivery against real local endpoints: json:// to an HTTP receiver, mailto:// to an aiosmtpd server.

Status changes are made through the real tracker (operator changes) and queued by the real alerter in
the same transaction, so these tests do not depend on how the evidence engine reads reports. Time is
injected: ``deliver_due(now)`` and ``build_due(now)`` take the clock as an argument.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.cli import main as cli_main
from monitor.config import Config, load_config
from monitor.delivery import (
    Alerter,
    Deliverer,
    Digester,
    RenderedAlert,
    backoff_seconds,
    escape_markdown,
    quiet_release,
    render_event,
    target_hash,
)
from monitor.store import AlertRow, DeliveryRow, DigestItemRow, Store
from monitor.tracking import Tracker, TrackEvent
from tests.receivers import JsonReceiver, SmtpReceiver

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)  # a Monday, 13:00 in Berlin
EVIL = "<script>alert(1)</script> [x](http://evil) **bold**"


@dataclass
class Env:
    config: Config
    store: Store
    tracker: Tracker
    alerter: Alerter

    def change(self, commitment: str, status: str, now: dt.datetime, note: str = "") -> list[AlertRow]:
        with self.store.session() as s:
            event = self.tracker.set_status(s, commitment, status, note, now)
            assert event is not None
            return self.alerter.enqueue(s, [event], now)

    def deliverer(self, seed: float = 0.5) -> Deliverer:
        return Deliverer(self.store, self.config, rng=lambda: seed)

    def alerts(self) -> list[AlertRow]:
        with self.store.session() as s:
            return list(s.exec(select(AlertRow).order_by(AlertRow.id)).all())  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`trade-monitor` commands install a stderr log handler; drop it with pytest's captured stream."""
    import logging

    root = logging.getLogger()
    before = list(root.handlers)
    yield
    root.handlers[:] = before


@pytest.fixture
def make_env(config_dir: Path, sqlite_url: str) -> Iterator[object]:
    stores: list[Store] = []

    def make(notify: list[tuple[str, str]], alerts_yaml: str = "version: 1\n") -> Env:
        lines = ["version: 1", "urls:" if notify else "urls: []"]
        for url, tags in notify:
            lines.append(f"  - {url}" + (f":\n      - tag: {tags}" if tags else ""))
        (config_dir / "notify.yaml").write_text("\n".join(lines) + "\n")
        (config_dir / "alerts.yaml").write_text(alerts_yaml)
        config = load_config(config_dir)
        store = Store(sqlite_url)
        stores.append(store)
        store.sync_commitments([c.id for c in config.commitments], T0)
        tracker = Tracker(config.commitments, config.watchlist.policy, config.alerts.reminder_days)
        return Env(config, store, tracker, Alerter(config))

    yield make
    for store in stores:
        store.close()


def deliver(env: Env, now: dt.datetime, deliverer: Deliverer | None = None) -> int:
    return asyncio.run((deliverer or env.deliverer()).deliver_due(now))


# --- retries and per-target results ----------------------------------------------------------------


def test_receiver_failing_first_attempts_gets_every_alert_exactly_once(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver(fail_first=4) as rx:
        env = make_env([(rx.url(), "")])
        for cid in ("us-fentanyl-tariff-cut", "cn-nexperia-exports", "trump-beijing-visit"):
            env.change(cid, "in_progress", T0)
        now = T0
        for _ in range(8):
            deliver(env, now)
            now += dt.timedelta(hours=1)
        assert [p.status for p in rx.posts].count(500) == 4
        ok = Counter(p.key for p in rx.ok_posts)
        assert len(ok) == 3 and set(ok.values()) == {1}
        assert all(a.state == "sent" for a in env.alerts())
        # The failures were recorded per target, then cleared by the success.
        retried = [d for a in env.alerts() for d in env.store.deliveries(a.id or 0) if d.attempts > 1]
        assert retried and all(d.state == "sent" for d in retried)


def test_only_the_failed_target_is_retried(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as good, JsonReceiver(fail_first=2) as bad:
        env = make_env([(good.url(), ""), (bad.url(), "")])
        env.change("cn-soybean-purchases-2025", "in_progress", T0)
        deliver(env, T0)
        (alert,) = env.alerts()
        assert alert.state == "pending" and alert.last_error and "500" in alert.last_error
        states = {d.target.split("/")[2]: d.state for d in env.store.deliveries(alert.id or 0)}
        assert sorted(states.values()) == ["failed", "sent"]
        deliver(env, T0 + dt.timedelta(seconds=5))  # backoff not elapsed: nothing happens
        assert len(bad.posts) == 1
        deliver(env, T0 + dt.timedelta(hours=1))
        deliver(env, T0 + dt.timedelta(hours=2))
        assert len(good.posts) == 1  # never resent to the target that had it
        assert [p.status for p in bad.posts] == [500, 500, 200]
        assert env.alerts()[0].state == "sent"


def test_backoff_grows_and_is_jittered() -> None:
    assert backoff_seconds(1, 10, lambda: 1.0) == 10
    assert backoff_seconds(4, 10, lambda: 1.0) == 80
    assert backoff_seconds(4, 10, lambda: 0.0) == 40
    assert backoff_seconds(40, 10, lambda: 1.0) == 3600


def test_undeliverable_alert_fails_after_max_age_and_tells_ops(make_env, capsys, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver(fail_first=10_000) as dead, JsonReceiver() as ops:
        env = make_env(
            [(dead.url("/hook/SECRETTOKEN1234"), "team"), (ops.url(), "ops")],
            "version: 1\ndefault_tags: [team]\nretry_max_age: 2h\n",
        )
        env.change("cn-port-fees-suspension", "broken", T0)
        now = T0
        while now < T0 + dt.timedelta(hours=4):
            deliver(env, now)
            now += dt.timedelta(minutes=20)
        alert = env.alerts()[0]
        assert alert.state == "failed"
        ops_alerts = [a for a in env.alerts() if a.kind == "ops"]
        assert len(ops_alerts) == 1 and ops_alerts[0].state == "sent"
        assert len(ops.ok_posts) == 1 and "Alert not delivered" in ops.ok_posts[0].title
        assert cli_main(["alerts", "--db", sqlite_url, "--state", "failed"]) == 0
        out = capsys.readouterr().out
        assert "failed" in out and alert.subject[:40] in out and "1 alerts not delivered" in out
        assert cli_main(["alerts", "--db", sqlite_url, "--id", str(alert.id)]) == 0
        detail = capsys.readouterr().out
        assert "json://127.0.0.1" in detail and "failed" in detail
    # Secrets never reach the database: the token in the URL path is nowhere in alert or delivery rows.
    with env.store.session() as s:
        dump = json.dumps([r.model_dump(mode="json") for r in s.exec(select(AlertRow)).all()])
        dump += json.dumps([r.model_dump(mode="json") for r in s.exec(select(DeliveryRow)).all()])
    assert "SECRETTOKEN1234" not in dump and "***" in dump


# --- exactly once when a worker dies mid-send ------------------------------------------------------------


def _crashed_mid_send(env: Env, now: dt.datetime) -> AlertRow:
    """What a SIGKILL between 'sending' and 'sent' leaves: phase 1 committed, a dead worker's lease."""
    worker = env.deliverer()
    claimed = worker._claim(now, 10)
    ((alert_id, _),) = claimed
    targets = {target_hash(t): t for t in worker.targets_for(env.alerts()[0])}
    assert worker._begin(alert_id, targets, now) is not None
    with env.store.session() as s:
        row = s.get(AlertRow, alert_id)
        assert row is not None
        row.lease_owner = "elsewhere:999999:dead"  # a worker on another host: only its lease expiry frees it
        s.add(row)
    return env.alerts()[0]


def test_unknown_outcome_is_resent_with_the_same_idempotency_key(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as rx:
        env = make_env([(rx.url(), "")])
        env.change("us-301-exclusions-extension", "fulfilled", T0)
        _crashed_mid_send(env, T0)
        deliver(env, T0 + dt.timedelta(seconds=30))
        assert rx.posts == []  # the dead worker's lease still holds
        deliver(env, T0 + dt.timedelta(minutes=5))
        (post,) = rx.posts
        assert post.headers["x-trade-monitor-redelivery"] == "1" and post.key
        (d,) = env.store.deliveries(env.alerts()[0].id or 0)
        assert d.state == "sent" and d.redeliveries == 1


def test_unknown_outcome_given_up_is_never_sent_twice_and_ops_hears(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as rx, JsonReceiver() as ops:
        env = make_env(
            [(rx.url(), "team"), (ops.url(), "ops")],
            "version: 1\ndefault_tags: [team]\non_unknown_outcome: give_up\n",
        )
        env.change("us-301-exclusions-extension", "fulfilled", T0)
        _crashed_mid_send(env, T0)
        deliver(env, T0 + dt.timedelta(minutes=5))
        deliver(env, T0 + dt.timedelta(minutes=6))
        assert rx.posts == []
        states = Counter((a.kind, a.state) for a in env.alerts())
        assert states == Counter({("status_change", "unknown"): 1, ("ops", "sent"): 1})
        assert "outcome unknown" in ops.posts[0].message


def test_recover_releases_leases_of_dead_local_workers(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as rx:
        env = make_env([(rx.url(), "")])
        env.change("cn-nexperia-exports", "in_progress", T0)
        env.deliverer()._claim(T0, 10)
        with env.store.session() as s:
            row = s.exec(select(AlertRow)).one()
            import socket

            row.lease_owner = f"{socket.gethostname()}:999999:gone"  # no such pid
            s.add(row)
        assert env.deliverer().recover() == 1
        deliver(env, T0 + dt.timedelta(seconds=1))
        assert len(rx.ok_posts) == 1


# --- formats, escaping, subjects, email ------------------------------------------------------------------


def test_feed_text_is_escaped_for_every_format(make_env) -> None:  # type: ignore[no-untyped-def]
    env = make_env([])
    with env.store.session() as s:
        event = env.tracker.set_status(
            s, "us-port-fees-suspension", "broken", EVIL + "\nWhy: forged line", T0
        )
        assert event is not None
        event.evidence = []
        rendered = render_event(event)
    assert rendered.subject.startswith("Broken: ") and len(rendered.subject) <= 100
    assert "\\<script\\>" in rendered.markdown and "\\[x\\]\\(http://evil\\)" in rendered.markdown
    assert "\\*\\*bold\\*\\*" in rendered.markdown
    assert "&lt;script&gt;" in rendered.html and "<script>" not in rendered.html
    assert '<a href="http://evil">' not in rendered.html
    assert "<script>" in rendered.text  # plain text shows the headline as written: nothing renders it
    assert "\nWhy: forged line" not in rendered.text  # feed text cannot start a line of its own


def test_only_plain_web_links_become_clickable() -> None:
    from monitor.delivery import _helpers

    md, html_ = _helpers("markdown")["link"], _helpers("html")["link"]
    assert md("https://example.gov/a?b=1") == "<https://example.gov/a?b=1>"
    assert "<" not in md("javascript:alert(1)").replace("\\<", "")
    assert html_("https://example.gov/a").startswith('<a href="https://example.gov/a">')
    assert "href" not in html_("javascript:alert(1)")
    assert escape_markdown("a_b") == "a\\_b"


def test_email_subject_body_escaping_and_routing_by_tag(make_env) -> None:  # type: ignore[no-untyped-def]
    with SmtpReceiver() as mail_urgent, JsonReceiver() as team:
        env = make_env(
            [(mail_urgent.url(to="oncall@example.com"), "urgent"), (team.url(), "team")],
            "version: 1\nroutes:\n"
            "  - name: urgent\n    match: {severities: [critical]}\n    tags: [urgent]\n"
            "  - name: team\n    tags: [team]\n",
        )
        env.change("cn-rare-earth-controls-suspension", "broken", T0, note=EVIL)
        env.change("cn-nexperia-exports", "in_progress", T0)
        deliver(env, T0)
        assert mail_urgent.wait_for(1)
        (msg,) = mail_urgent.messages  # only the broken change reaches the urgent route
        assert msg["Subject"].startswith("Broken: ") and "(was pending)" in msg["Subject"]
        assert msg["To"] == "oncall@example.com"
        html_part = msg.get_body(("html",))
        assert html_part is not None
        body = html_part.get_content()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body
        assert '<a href="http://evil">' not in body
        assert "<b>" in body  # our own markup survives
        assert msg["Idempotency-Key"]
        assert sorted(p.title.split(":")[0] for p in team.ok_posts) == ["Broken", "In progress"]


# --- quiet hours, mute, snooze, rate limits --------------------------------------------------------------

QUIET = """version: 1
timezone: Europe/Berlin
routes:
  - name: team
    tags: [team]
    quiet_hours: {start: "22:00", end: "07:00", except_severities: [critical]}
"""


def test_quiet_hours_hold_alerts_and_deliver_them_after(make_env) -> None:  # type: ignore[no-untyped-def]
    night = dt.datetime(2026, 1, 5, 22, 30, tzinfo=dt.UTC)  # 23:30 in Berlin
    with JsonReceiver() as rx:
        env = make_env([(rx.url(), "team")], QUIET)
        env.change("trump-beijing-visit", "in_progress", night)
        env.change("cn-port-fees-suspension", "broken", night)  # critical: excepted
        deliver(env, night)
        assert [p.title.split(":")[0] for p in rx.ok_posts] == ["Broken"]
        held = [a for a in env.alerts() if a.state == "held"]
        assert len(held) == 1 and held[0].next_attempt_at is not None
        deliver(env, dt.datetime(2026, 1, 6, 5, 59, tzinfo=dt.UTC))  # 06:59 Berlin: still quiet
        assert len(rx.ok_posts) == 1
        deliver(env, dt.datetime(2026, 1, 6, 6, 0, tzinfo=dt.UTC))  # 07:00 Berlin
        assert len(rx.ok_posts) == 2 and all(a.state == "sent" for a in env.alerts())


def test_quiet_release_wraps_midnight_and_respects_dst() -> None:
    from monitor.config import QuietHours, Route

    route = Route(name="r", quiet_hours=QuietHours(start=dt.time(22), end=dt.time(7)))
    summer_night = dt.datetime(2026, 7, 1, 21, 30, tzinfo=dt.UTC)  # 23:30 CEST
    assert quiet_release(route, "info", summer_night, "Europe/Berlin") == dt.datetime(
        2026, 7, 2, 5, tzinfo=dt.UTC
    )
    assert quiet_release(route, "info", dt.datetime(2026, 7, 1, 10, tzinfo=dt.UTC), "Europe/Berlin") is None


def test_mute_drops_and_snooze_holds_until_after_the_date(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as rx:
        env = make_env(
            [(rx.url(), "")],
            "version: 1\nmute: {cn-nexperia-exports: 2026-02-01}\nsnooze: {xi-us-state-visit: 2026-01-10}\n",
        )
        env.change("cn-nexperia-exports", "in_progress", T0)
        env.change("xi-us-state-visit", "in_progress", T0)
        deliver(env, T0)
        assert rx.posts == []
        assert Counter(a.state for a in env.alerts()) == Counter({"muted": 1, "held": 1})
        deliver(env, dt.datetime(2026, 1, 10, 22, 59, tzinfo=dt.UTC))  # 23:59 on the 10th, UTC zone
        assert rx.posts == []
        deliver(env, dt.datetime(2026, 1, 11, 0, 0, tzinfo=dt.UTC))
        assert [p.title for p in rx.ok_posts] == [env.alerts()[1].subject]


def test_rate_limit_folds_a_burst_into_one_message(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as rx:
        env = make_env(
            [(rx.url(), "team")],
            "version: 1\nroutes:\n  - name: team\n    tags: [team]\n    rate_limit: {max: 2, per: 10m}\n",
        )
        ids = [c.id for c in env.config.commitments]
        for cid in ids[:5]:
            env.change(cid, "in_progress", T0)
        deliver(env, T0)
        (burst,) = rx.ok_posts
        assert burst.title.startswith("5 alerts: ")
        for alert in env.alerts()[:5]:
            assert alert.subject in burst.message
        for cid in ids[5:8]:
            env.change(cid, "in_progress", T0 + dt.timedelta(minutes=1))
        deliver(env, T0 + dt.timedelta(minutes=1))  # one message left in the window: one more burst
        assert len(rx.ok_posts) == 2 and rx.ok_posts[1].title.startswith("3 alerts")
        env.change(ids[8], "in_progress", T0 + dt.timedelta(minutes=2))
        deliver(env, T0 + dt.timedelta(minutes=2))  # window full: held, not dropped
        assert len(rx.ok_posts) == 2
        deliver(env, T0 + dt.timedelta(minutes=10, seconds=1))
        assert len(rx.ok_posts) == 3 and rx.ok_posts[2].title.startswith("In progress")
        states = Counter(a.state for a in env.alerts())
        assert states == Counter({"folded": 8, "sent": 3})


# --- digests ----------------------------------------------------------------------------------------------

DIGEST = """version: 1
timezone: Europe/Berlin
routes:
  - name: weekly-readers
    tags: [digest]
    mode: digest
  - name: team
    tags: [team]
    mode: both
digests: {daily: "08:00", weekly: "mon 08:00", nothing_changed: true}
"""


def test_daily_and_weekly_digests_with_injected_clock(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as digest_rx, JsonReceiver() as team_rx:
        env = make_env([(digest_rx.url(), "digest"), (team_rx.url(), "team")], DIGEST)
        digester = Digester(env.store, env.config)
        env.change("cn-soybean-purchases-2025", "in_progress", T0)
        env.change("trump-beijing-visit", "in_progress", T0 + dt.timedelta(hours=1))
        deliver(env, T0 + dt.timedelta(hours=2))
        assert digest_rx.posts == []  # digest mode: nothing immediate
        assert len(team_rx.ok_posts) == 2  # mode both: immediate too
        tuesday_0805 = dt.datetime(2026, 1, 6, 7, 5, tzinfo=dt.UTC)  # 08:05 Berlin
        built = digester.build_due(tuesday_0805)
        daily_keys = sorted(a.key for a in built if a.key.startswith("digest:daily"))
        assert daily_keys == ["digest:daily:team:2026-01-06", "digest:daily:weekly-readers:2026-01-06"]
        # The weekly period that ended on Monday 08:00, before both changes: a "nothing changed" weekly.
        assert {a.subject for a in built if a.key.startswith("digest:weekly")} == {
            "Weekly digest: nothing changed"
        }
        assert digester.build_due(tuesday_0805 + dt.timedelta(hours=3)) == []  # idempotent per period
        deliver(env, tuesday_0805)
        daily = next(p for p in digest_rx.ok_posts if p.title.startswith("Daily"))
        assert daily.title == "Daily digest: 2 updates"
        assert "Soybean" in daily.message or "soybean" in daily.message
        wednesday = tuesday_0805 + dt.timedelta(days=1)
        built = digester.build_due(wednesday)
        assert {a.subject for a in built} == {"Daily digest: nothing changed"}
        next_monday = dt.datetime(2026, 1, 12, 7, 30, tzinfo=dt.UTC)
        weekly = [a for a in digester.build_due(next_monday) if a.key.startswith("digest:weekly")]
        assert {a.key for a in weekly} == {
            "digest:weekly:team:2026-W03",
            "digest:weekly:weekly-readers:2026-W03",
        }
        assert all(a.subject == "Weekly digest: 2 updates" for a in weekly)
        with env.store.session() as s:
            items = Counter(i.digest_kind for i in s.exec(select(DigestItemRow)).all())
        assert items == Counter({"daily": 4, "weekly": 4})
        assert Counter(
            a.state for a in env.alerts() if a.route == "weekly-readers" and a.kind != "digest"
        ) == Counter({"digested": 2})


# --- deadlines ----------------------------------------------------------------------------------------------


def test_deadline_reminder_once_then_overdue(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as rx:
        env = make_env([(rx.url(), "")], "version: 1\nreminder_days: [7, 1]\n")
        commitment = env.config.commitment("trump-beijing-visit")
        assert commitment.due is not None
        due = dt.datetime.combine(commitment.due, dt.time(12), tzinfo=dt.UTC)

        def check(now: dt.datetime) -> list[TrackEvent]:
            with env.store.session() as s:
                events = env.tracker.check_deadlines(s, now)
                env.alerter.enqueue(s, events, now)
            return events

        check(due - dt.timedelta(days=7))
        check(due - dt.timedelta(days=6))  # same reminder again: idempotent key, no second alert
        check(due - dt.timedelta(days=1))
        check(due + dt.timedelta(days=1))
        deliver(env, due + dt.timedelta(days=1))
        titles = [p.title for p in rx.ok_posts if "Beijing" in p.title or "Trump" in p.title]
        assert any(t.startswith("Due in 7 days: ") for t in titles)
        assert any(t.startswith("Due in 1 day: ") for t in titles)
        assert any(t.startswith("Overdue: ") for t in titles)
        assert len([t for t in titles if t.startswith("Due in 7")]) == 1


# --- command line --------------------------------------------------------------------------------------


def test_notify_test_prints_each_target_redacted(make_env, capsys, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as ok, JsonReceiver(fail_first=1) as bad:
        make_env([(ok.url("/hook/TOKENAAAA1111"), "team"), (bad.url("/x/TOKENBBBB2222"), "ops")])
        assert cli_main(["notify", "test", "--config-dir", str(config_dir)]) == 1
        out = capsys.readouterr().out
        assert "TOKEN" not in out
        assert out.count("json://127.0.0.1") == 2 and "ok" in out and "FAILED" in out
        assert len(ok.ok_posts) == 1 and ok.ok_posts[0].title == "trade-monitor test message"
        assert cli_main(["notify", "test", "--config-dir", str(config_dir), "--tag", "team"]) == 0
        assert len(ok.ok_posts) == 2 and len(bad.posts) == 1


def test_check_config_shows_effective_routing(make_env, capsys, config_dir: Path) -> None:  # type: ignore[no-untyped-def]
    make_env(
        [("json://127.0.0.1:9/u", "urgent"), ("json://127.0.0.1:9/t", "team, ops")],
        "version: 1\nroutes:\n  - name: urgent\n    match: {severities: [critical]}\n    tags: [urgent]\n"
        "  - name: team\n    tags: [team]\n    rate_limit: {max: 3, per: 1h}\n",
    )
    assert cli_main(["check-config", "--config-dir", str(config_dir)]) == 0
    out = capsys.readouterr().out
    assert "critical: urgent[immediate] -> json://127.0.0.1:9/***; team[immediate, max 3/3600s]" in out
    assert "warning/notice/info: team[immediate, max 3/3600s]" in out
    assert "ops alerts (tag ops): json://127.0.0.1" in out


def test_enqueue_ops_reaches_the_ops_tag(make_env) -> None:  # type: ignore[no-untyped-def]
    with JsonReceiver() as team, JsonReceiver() as ops:
        env = make_env([(team.url(), "team"), (ops.url(), "ops")])
        with env.store.session() as s:
            assert env.alerter.enqueue_ops(s, "source-failing:1:x", "Source failing: <b>x</b>", "boom", T0)
            assert env.alerter.enqueue_ops(s, "source-failing:1:x", "again", "again", T0) is None
        deliver(env, T0)
        assert team.posts == [] and [p.title for p in ops.ok_posts] == ["Source failing: <b>x</b>"]


def test_rendered_alert_picks_the_body_for_the_format() -> None:
    r = RenderedAlert("s", "t", "m", "h")
    assert (r.for_format("text"), r.for_format("markdown"), r.for_format("html"), r.body) == (
        "t",
        "m",
        "h",
        "m",
    )


def test_a_tag_no_target_carries_falls_back_to_untagged_targets(tmp_path: Path) -> None:
    """A route naming a tag nobody uses must not make its alerts undeliverable."""
    import dataclasses

    from monitor.config import NotifyTarget, load_config
    from monitor.store import AlertRow, Store

    config = load_config(Path(__file__).resolve().parents[1] / "config")
    plain = NotifyTarget("json://127.0.0.1:9/plain", frozenset(), "json://127.0.0.1/***", None)
    ops = NotifyTarget("json://127.0.0.1:9/ops", frozenset({"ops"}), "json://127.0.0.1/***", None)
    config = dataclasses.replace(config, notify_targets=(plain, ops))
    store = Store(f"sqlite:///{tmp_path / 'd.sqlite'}")
    deliverer = Deliverer(store, config)
    farm = AlertRow(key="k", kind="status_change", tags='["farm"]')
    assert deliverer.targets_for(farm) == [plain]
    assert deliverer.targets_for(AlertRow(key="o", kind="ops", tags='["ops"]')) == [ops]
    store.close()


async def test_fixing_a_failing_url_delivers_and_closes_the_alert(tmp_path: Path, config_dir: Path) -> None:
    """A target answers 500; the operator fixes the URL; the alert is sent once at the new URL and is
    'sent', with no false 'not delivered' ops alert for the target that left the config."""
    from monitor.delivery import Alerter

    with JsonReceiver(fail_first=1000) as bad, JsonReceiver() as good:
        (config_dir / "notify.yaml").write_text(f"version: 1\nurls:\n  - {bad.url('/hook')}\n")
        store = Store(f"sqlite:///{tmp_path / 'fix.sqlite'}")
        now = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
        config = load_config(config_dir)
        with store.session() as s:
            Alerter(config).enqueue_ops(s, "probe", "probe subject", "probe body", now)
        await Deliverer(store, config).deliver_due(now)
        assert store.alerts()[0].state == "pending"
        (config_dir / "notify.yaml").write_text(f"version: 1\nurls:\n  - {good.url('/hook')}\n")
        fixed = Deliverer(store, load_config(config_dir))
        for hours in (1, 2, 48):
            await fixed.deliver_due(now + dt.timedelta(hours=hours))
        alerts = store.alerts()
        states = {d.state for d in store.deliveries(alerts[-1].id or 0)}
        store.close()
    assert [p.title for p in good.posts] == ["probe subject"]
    assert [(a.key, a.state) for a in alerts] == [("probe", "sent")]
    assert states == {"sent", "obsolete"}


async def test_removing_every_target_closes_an_alert_that_had_failed(
    tmp_path: Path, config_dir: Path
) -> None:
    """With no target left, the alert goes to the console once and is done, not retried forever."""
    import io

    from monitor.delivery import Alerter

    with JsonReceiver(fail_first=1000) as bad:
        (config_dir / "notify.yaml").write_text(f"version: 1\nurls:\n  - {bad.url('/hook')}\n")
        store = Store(f"sqlite:///{tmp_path / 'none.sqlite'}")
        now = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
        with store.session() as s:
            Alerter(load_config(config_dir)).enqueue_ops(s, "probe", "probe subject", "probe body", now)
        await Deliverer(store, load_config(config_dir)).deliver_due(now)
    (config_dir / "notify.yaml").write_text("version: 1\nurls: []\n")
    console = io.StringIO()
    quiet = Deliverer(store, load_config(config_dir), console=console)
    for hours in (1, 2, 3):
        await quiet.deliver_due(now + dt.timedelta(hours=hours))
    alerts = store.alerts()
    store.close()
    assert console.getvalue().count("probe subject") == 1
    assert [(a.key, a.state) for a in alerts] == [("probe", "console")]  # printed, never "sent"
