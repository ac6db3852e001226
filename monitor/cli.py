"""The command line: `trade-monitor COMMAND`.

`match`, `replay` and `check-config` are a contract that outside measurements drive: their options and
output formats only ever grow. Every command has `--help`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from monitor import __version__
from monitor.config import STATUSES, Config, default_config_dir, load_config
from monitor.errors import ConfigError, NotAFeedError, TradeMonitorError
from monitor.evidence import EvidenceEngine, Report
from monitor.store import Store, as_utc, default_db_url, redact_db_url, utcnow

log = logging.getLogger("monitor.cli")
Handler = Callable[[argparse.Namespace], int]


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config_dir)


def _db(args: argparse.Namespace) -> str:
    return str(args.db or default_db_url())


def _parse_when(value: str | None) -> dt.datetime | None:
    """ISO 8601 date or datetime; None for anything unreadable (a bad date is not a crash)."""
    if not value or not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


# --- check-config --------------------------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _config(args)
    out: TextIO = sys.stdout
    out.write(f"{config.directory}: OK\n")
    out.write(f"  watchlist.yaml: {len(config.commitments)} commitments\n")
    enabled = sum(1 for s in config.sources.sources if s.enabled)
    out.write(f"  sources.yaml: {len(config.sources.sources)} sources ({enabled} enabled)\n")
    if config.notify_targets:
        out.write(f"  notify.yaml: {len(config.notify_targets)} targets\n")
        for t in config.notify_targets:
            out.write(f"    - {t.redacted} tags={sorted(t.tags) or '-'}\n")
    else:
        out.write("  notify.yaml: no targets; alerts go to the console\n")
    _print_routing(config, out)
    return 0


def _print_routing(config: Config, out: TextIO) -> None:
    from monitor.delivery import Alerter, Deliverer

    alerter = Alerter(config)
    deliverer = Deliverer.__new__(Deliverer)
    deliverer.config = config
    out.write("  routing (status changes):\n")
    for c in config.commitments:
        for severity in ("critical", "notice"):
            routes = alerter.routes_for("status_change", severity, c.id)
            names = []
            for r in routes:
                from monitor.store import AlertRow

                targets = deliverer.targets_for(AlertRow(key="", kind="status_change", tags=json.dumps(r.tags)))
                names.append(f"{r.name}[{r.mode}] -> {', '.join(t.redacted for t in targets) or 'console'}")
            out.write(f"    {c.id} ({severity}): {'; '.join(names)}\n")


# --- match ---------------------------------------------------------------------------------------


def cmd_match(args: argparse.Namespace) -> int:
    """JSON lines in, JSON lines out, one per input line, in order; a bad line yields an error field."""
    config = _config(args)
    engine = EvidenceEngine(config.commitments, config.watchlist.category_defaults)
    out = sys.stdout
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if not isinstance(doc, dict):
                raise ValueError("expected a JSON object")
        except ValueError as exc:
            out.write(json.dumps({"id": None, "matches": [], "error": f"line {number}: {exc}"}) + "\n")
            continue
        report = Report(
            id=str(doc.get("id", "")),
            title=str(doc.get("title") or ""),
            summary=str(doc.get("summary") or ""),
            published=_parse_when(doc.get("published")),
            link=str(doc.get("link") or ""),
            source=str(doc.get("source") or ""),
        )
        result: dict[str, Any] = {"id": doc.get("id"), "matches": []}
        if args.explain:
            result["explain"] = []
        for exp in engine.explain(report):
            if exp.match is not None:
                m = exp.match
                item: dict[str, Any] = {
                    "commitment": m.commitment,
                    "signal": m.signal,
                    "confidence": round(float(m.confidence), 3),
                    "evidence": m.evidence,
                    "cue": m.cue,
                }
                if m.quantity is not None:
                    item["quantity"] = {"value": m.quantity.value, "unit": m.quantity.unit,
                                        "cumulative": m.quantity.cumulative}
                if m.new_date is not None:
                    item["new_date"] = m.new_date.isoformat()
                result["matches"].append(item)
            if args.explain and (exp.matched or exp.reasons):
                result["explain"].append({"commitment": exp.commitment, "matched": exp.matched,
                                          "reasons": exp.reasons})
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return 0


# --- replay --------------------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace) -> int:
    from monitor.pipeline import Monitor, changes_as_json
    from monitor.parse import parse_feed

    config = _config(args)
    store = Store(_db(args))
    now_override = _parse_when(args.now) if args.now else None
    clock_value = [now_override or utcnow()]
    monitor = Monitor(config, store, clock=lambda: clock_value[0])
    exit_code = 0
    try:
        for name in args.files:
            path = Path(name)
            before = store.last_change_id()
            try:
                feed = parse_feed(path.read_bytes(), {}, None)
            except (OSError, NotAFeedError) as exc:
                print(f"trade-monitor replay: {path}: {exc}", file=sys.stderr)
                exit_code = 1
                continue
            times = [e.published for e in feed.entries if e.published]
            when = now_override or (max(times) if times else utcnow())
            clock_value[0] = when
            source = store.ensure_source(
                f"replay: {feed.title or path.name}", feed.link or path.resolve().as_uri(),
                official=config.is_official(feed.link or ""),
            )
            monitor.ingest(source, feed, when)
            if args.deadlines:
                monitor.check_deadlines(when)
            for change in changes_as_json(store, store.changes_since(before)):
                sys.stdout.write(json.dumps(change, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        _finish_replay_alerts(store, config, notify=args.notify)
    finally:
        store.close()
    return exit_code


def _finish_replay_alerts(store: Store, config: Config, notify: bool) -> None:
    """With --notify the outbox is delivered now; without, replayed alerts are marked skipped."""
    from monitor.delivery import Deliverer

    if notify:
        deliverer = Deliverer(store, config, console=sys.stderr)
        sent = asyncio.run(deliverer.deliver_due(utcnow() + dt.timedelta(days=36500)))
        failed = [a for a in store.alerts(states=["pending", "failed"])]
        print(f"trade-monitor replay: {sent} alerts delivered, {len(failed)} not delivered", file=sys.stderr)
    else:
        from sqlmodel import select

        from monitor.store import AlertRow

        with store.session() as s:
            for alert in s.exec(select(AlertRow).where(AlertRow.state == "pending")).all():
                alert.state = "skipped"
                s.add(alert)


# --- status and history --------------------------------------------------------------------------


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() + "\n")


def cmd_status(args: argparse.Namespace) -> int:
    config = _config(args)
    store = Store(_db(args))
    try:
        rows = {r.id: r for r in store.commitments()}
        table = [["COMMITMENT", "STATUS", "SINCE", "LAST EVIDENCE", "DUE/ENDS", "PROGRESS"]]
        for c in config.commitments:
            r = rows.get(c.id)
            status = r.status if r else "pending"
            since = f"{as_utc(r.status_since):%Y-%m-%d}" if r and r.status_since else "-"
            last = f"{as_utc(r.last_evidence_at):%Y-%m-%d}" if r and r.last_evidence_at else "-"
            dates = " / ".join(x for x in (str(c.due or ""), str(c.ends or "")) if x) or "-"
            progress = "-"
            if c.target and r and r.progress_value is not None:
                progress = f"{r.progress_value:g}/{c.target.value:g} {c.target.unit} ({100 * r.progress_value / c.target.value:.0f}%)"
            table.append([c.id, status, since, last, dates, progress])
        if args.json:
            keys = [k.lower().replace(" ", "_").replace("/", "_") for k in table[0]]
            for row in table[1:]:
                sys.stdout.write(json.dumps(dict(zip(keys, row, strict=True))) + "\n")
        else:
            _table(table, sys.stdout)
    finally:
        store.close()
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    config = _config(args)
    try:
        commitment = config.commitment(args.id)
    except KeyError:
        print(f"trade-monitor history: no commitment {args.id!r} in the watchlist", file=sys.stderr)
        return 2
    store = Store(_db(args))
    try:
        changes, evidence = store.history(args.id)
        out = sys.stdout
        out.write(f"{commitment.id}: {commitment.title}\n")
        events: list[tuple[dt.datetime, str]] = []
        for c in changes:
            events.append((as_utc(c.at) or utcnow(), f"STATUS {c.from_status} -> {c.to_status} ({c.kind}): {c.reason}"))
        for e in evidence:
            when = as_utc(e.published) or as_utc(e.created_at) or utcnow()
            confirm = "official" if e.official else e.publisher
            events.append((when, f"  evidence {e.signal} ({e.confidence:.2f}, {confirm}): {e.title}\n"
                                 f"      {e.link}\n      \"{e.sentence}\""))
        for when, line in sorted(events, key=lambda x: x[0]):
            out.write(f"{when:%Y-%m-%d %H:%M}  {line}\n")
        if not events:
            out.write("  no evidence yet\n")
    finally:
        store.close()
    return 0


# --- daemon --------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.scheduler import Daemon

    daemon = Daemon(Path(args.config_dir), _db(args), poll_tick=args.tick)
    log.info("database: %s", redact_db_url(daemon.store.url))
    asyncio.run(daemon.run())
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from monitor.scheduler import Daemon

    if not args.once:
        print("trade-monitor poll: only --once is supported; use `trade-monitor run` for the daemon",
              file=sys.stderr)
        return 2

    async def go() -> int:
        daemon = Daemon(Path(args.config_dir), _db(args))
        try:
            if args.all:
                await asyncio.to_thread(_make_all_due, daemon.store)
            outcomes = await daemon.poll_once()
            await daemon.deadlines_once()
            await daemon.deliver_once()
        finally:
            await daemon.shutdown()
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o] = counts.get(o, 0) + 1
        print(f"polled {len(outcomes)} sources: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none due"))
        return 0

    return asyncio.run(go())


def _make_all_due(store: Store) -> None:
    from sqlmodel import select

    from monitor.store import SourceRow

    with store.session() as s:
        for row in s.exec(select(SourceRow).where(SourceRow.enabled == True)).all():  # noqa: E712
            row.next_poll_at = None
            s.add(row)


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    return run_demo(Path(args.config_dir), sys.stdout)


# --- alerts --------------------------------------------------------------------------------------


def cmd_alerts(args: argparse.Namespace) -> int:
    store = Store(_db(args))
    try:
        states = [args.state] if args.state else None
        rows = store.alerts(states=states, limit=args.limit)
        if not rows:
            print("no alerts")
        table = [["ID", "STATE", "KIND", "ROUTE", "CREATED", "ATTEMPTS", "SUBJECT", "LAST ERROR"]]
        for a in rows:
            table.append([str(a.id), a.state, a.kind, a.route, f"{as_utc(a.created_at):%Y-%m-%d %H:%M}",
                          str(a.attempts), a.subject[:60], (a.last_error or "")[:60]])
        if rows:
            _table(table, sys.stdout)
    finally:
        store.close()
    return 0


# --- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trade-monitor",
        description="Track whether governments keep their trade commitments: polls feeds, reads the "
        "reports, moves each commitment's status and sends alerts through Apprise.",
    )
    parser.add_argument("--version", action="version", version=f"trade-monitor {__version__}")
    parser.add_argument("--log-level", default=os.environ.get("TRADE_MONITOR_LOG_LEVEL", "INFO"),
                        help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, handler: Handler, help_text: str, *, db: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config-dir", type=Path, default=default_config_dir(),
                       help="config directory (default: $TRADE_MONITOR_CONFIG or ./config)")
        if db:
            p.add_argument("--db", default=None,
                           help="database URL (default: $TRADE_MONITOR_DB or a SQLite file in the user data dir)")
        p.set_defaults(handler=handler)
        return p

    p = command("run", cmd_run, "run the daemon: poll feeds, track statuses, send alerts", db=True)
    p.add_argument("--tick", type=float, default=30.0, help="seconds between checks for due sources")
    p = command("poll", cmd_poll, "poll the sources that are due once, deliver alerts, and exit", db=True)
    p.add_argument("--once", action="store_true", help="poll once and exit (required)")
    p.add_argument("--all", action="store_true", help="poll every enabled source, due or not")
    command("check-config", cmd_check_config, "validate the config directory without running")
    p = command("status", cmd_status, "show each commitment's status, since when, last evidence and dates", db=True)
    p.add_argument("--json", action="store_true", help="one JSON object per commitment")
    p = command("history", cmd_history, "show a commitment's timeline of evidence and status changes", db=True)
    p.add_argument("id", help="commitment id")
    command("demo", cmd_demo, "replay an invented scenario through the real pipeline and show what happens")
    p = command("match", cmd_match,
                "read reports as JSON lines on stdin, write one JSON line of matches per report; no database")
    p.add_argument("--explain", action="store_true", help="add an 'explain' list with the reasons per commitment")
    p = command("replay", cmd_replay,
                "ingest saved feed documents in order and print each status change as a JSON line", db=True)
    p.add_argument("files", nargs="+", metavar="FILE", help="RSS or Atom documents")
    p.add_argument("--notify", action="store_true", help="also deliver the alerts through notify.yaml")
    p.add_argument("--now", default=None, help="treat every document as fetched at this ISO time")
    p.add_argument("--deadlines", action="store_true",
                   help="also run the daily deadline check at each document's time (overdue, expired)")
    p = command("alerts", cmd_alerts, "list alerts in the outbox with their delivery state", db=True)
    p.add_argument("--state", choices=["pending", "sent", "failed", "skipped", "held"], default=None)
    p.add_argument("--limit", type=int, default=50)
    return parser


def configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"trade-monitor {args.command}: invalid config:\n{exc}", file=sys.stderr)
        return 2
    except TradeMonitorError as exc:
        print(f"trade-monitor {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
