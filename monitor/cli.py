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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from monitor import __version__
from monitor.config import (
    STATUSES,
    Config,
    ConfigNotFoundError,
    find_config_dir,
    load_config,
    shipped_config_dir,
    shipped_labelled_set,
    user_config_dir,
    write_shipped_config,
)
from monitor.errors import ConfigError, NotAFeedError, TradeMonitorError
from monitor.evidence import EvidenceEngine, Report, published_precision, read_published
from monitor.store import Store, as_utc, default_db_url, make_engine, redact_db_url, utcnow
from monitor.tracking import UNVERIFIED

log = logging.getLogger("monitor.cli")
Handler = Callable[[argparse.Namespace], int]


def _config(args: argparse.Namespace) -> Config:
    """Load the config and register its secrets for redaction before anything can log them."""
    from monitor.observability import REDACTOR

    config = load_config(args.config_dir)
    REDACTOR.add_config(config)
    return config


def _db(args: argparse.Namespace) -> str:
    from monitor.observability import REDACTOR

    url = str(args.db or default_db_url())
    REDACTOR.add_db_url(url)
    return url


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
    from monitor.config import unused_notify_tags

    for target, tag in unused_notify_tags(config):
        line = f":{target.line}" if target.line else ""
        print(
            f"{config.directory / 'notify.yaml'}{line}: warning: no route in alerts.yaml uses the tag "
            f"{tag!r} of {target.redacted}",
            file=sys.stderr,
        )
    return 0


def _print_routing(config: Config, out: TextIO) -> None:
    """The effective routing, computed by the same code the daemon uses (Alerter and Deliverer)."""
    from monitor.delivery import Alerter, Deliverer, describe_route, digest_schedules
    from monitor.store import AlertRow

    alerter = Alerter(config)
    deliverer = Deliverer.__new__(Deliverer)
    deliverer.config = config
    settings = config.alerts

    def dest(tags: Sequence[str], kind: str = "status_change") -> str:
        if not config.notify_targets:
            return "console"
        targets = deliverer.targets_for(AlertRow(key="", kind=kind, tags=json.dumps(sorted(tags))))
        return ", ".join(t.redacted for t in targets) or "NO TARGET: these alerts will fail"

    out.write(
        "  routing (status changes; broken=critical, delayed/expired=warning, fulfilled=notice, "
        "progress=info):\n"
    )
    for c in config.commitments:
        lines = {}
        for severity in ("critical", "warning", "notice", "info"):
            routes = alerter.routes_for("status_change", severity, c.id)
            lines[severity] = "; ".join(f"{r.name}[{describe_route(r)}] -> {dest(r.tags)}" for r in routes)
        groups: dict[str, list[str]] = {}
        for severity, line in lines.items():
            groups.setdefault(line, []).append(severity)
        if len(groups) == 1:
            out.write(f"    {c.id}: {lines['critical']}\n")
        else:
            out.write(f"    {c.id}:\n")
            for line, severities in groups.items():
                out.write(f"      {'/'.join(severities)}: {line}\n")
    out.write(f"  ops alerts (tag {settings.ops_tag}): {dest([settings.ops_tag], 'ops')}\n")
    schedules = digest_schedules(settings)
    if schedules:
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        when = ", ".join(
            f"{kind} {'' if wd is None else days[wd] + ' '}{h:02d}:{m:02d}"
            for kind, (wd, h, m) in schedules.items()
        )
        out.write(
            f"  digests: {when} ({settings.timezone})"
            f"{'; nothing-changed line on' if settings.digests.nothing_changed else ''}\n"
        )
    for cid, until in sorted(settings.mute.items()):
        out.write(f"  muted: {cid} until {until}\n")
    for cid, until in sorted(settings.snooze.items()):
        out.write(f"  snoozed: {cid} until {until} (held, then delivered)\n")


# --- match ---------------------------------------------------------------------------------------


def cmd_match(args: argparse.Namespace) -> int:
    """JSON lines in, JSON lines out, one per input line, in order; a bad line yields an error field."""
    config = _config(args)
    engine = EvidenceEngine.for_watchlist(config.watchlist)
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
        try:  # reduced precision ("2025-10") is the last day of its month; unreadable is never evidence
            published, unreadable = read_published(doc.get("published")), False
        except ValueError:
            published, unreadable = None, True
        report = Report(
            id=str(doc.get("id", "")),
            title=str(doc.get("title") or ""),
            summary=str(doc.get("summary") or ""),
            published=published,
            date_unreadable=unreadable,
            precision=published_precision(doc.get("published")),
            link=str(doc.get("link") or ""),
            source=str(doc.get("source") or ""),
            # a link on a configured government domain is official; otherwise the engine judges by name
            official=True if config.is_official(str(doc.get("link") or "")) else None,
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
                    item["quantity"] = {
                        "value": m.quantity.value,
                        "unit": m.quantity.unit,
                        "cumulative": m.quantity.cumulative,
                    }
                if m.new_date is not None:
                    item["new_date"] = m.new_date.isoformat()
                result["matches"].append(item)
            if args.explain and (exp.matched or exp.reasons):
                result["explain"].append(
                    {"commitment": exp.commitment, "matched": exp.matched, "reasons": exp.reasons}
                )
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Why each commitment did or did not match a text: test a watchlist edit before saving it."""
    from monitor.evidence import explain_text

    config = _config(args)
    engine = EvidenceEngine.for_watchlist(config.watchlist)
    text = args.text if args.text != "-" else sys.stdin.read()
    published = _parse_when(args.published) if args.published else None
    sys.stdout.write(explain_text(engine, text, published) + "\n")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Precision, recall, F1 and signal accuracy of the engine on a labelled set."""

    config = _config(args)
    engine = EvidenceEngine.for_watchlist(config.watchlist)
    data = args.data if args.data is not None else shipped_labelled_set()
    if not data.exists():
        hint = "" if args.data is not None else " (none ships with this installation)"
        print(
            f"trade-monitor eval: no labelled set at {data}{hint}; pass --data FILE, a JSON lines file "
            "of reports with their labels (tests/data/labelled.jsonl in a clone)",
            file=sys.stderr,
        )
        return 2
    from monitor.evidence import load_labelled, score_reports

    split = None if args.split == "all" else args.split
    items = [x for x in load_labelled(data) if split is None or x.split == split]
    progress = progress_reporter("eval", "reports")

    def scored() -> Iterator[tuple[Report, dict[str, Any]]]:
        for number, x in enumerate(items, start=1):
            yield x.report, x.labels
            progress(number, len(items), x.report.id)

    result = score_reports(engine, scored(), label=split or "all")
    sys.stdout.write(result.format(max_errors=args.errors) + "\n")
    return 0


# --- replay --------------------------------------------------------------------------------------


def _first_document_time(names: Sequence[str]) -> dt.datetime | None:
    """The time of the newest entry of the first readable feed document, as `replay` dates it."""
    from monitor.parse import parse_feed

    for name in names:
        try:
            feed = parse_feed(Path(name).read_bytes(), {}, None)
        except (OSError, NotAFeedError):
            continue
        times = [e.published for e in feed.entries if e.published]
        return max(times) if times else None
    return None


def cmd_replay(args: argparse.Namespace) -> int:
    from monitor.parse import parse_feed
    from monitor.pipeline import Monitor, changes_as_json

    config = _config(args)
    store = Store(_db(args))
    now_override = _parse_when(args.now) if args.now else None
    # Watching begins when the first document was "fetched", so a date passing between two replayed
    # documents was witnessed and the calendar may judge it.
    clock_value = [now_override or _first_document_time(args.files) or utcnow()]
    monitor = Monitor(config, store, clock=lambda: clock_value[0])
    exit_code = 0
    queued: list[int] = []  # the alerts this replay made: only these are delivered or skipped
    progress = progress_reporter("replay", "files")
    try:
        for number, name in enumerate(args.files, start=1):
            progress(number - 1, len(args.files), name)
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
                f"replay: {feed.title or path.name}",
                feed.link or path.resolve().as_uri(),
                official=config.is_official(feed.link or ""),
            )
            queued += monitor.ingest(source, feed, when).alert_ids
            if args.deadlines:
                queued += monitor.deadlines(when).alert_ids
            for change in changes_as_json(store, store.changes_since(before)):
                sys.stdout.write(json.dumps(change, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        progress(len(args.files), len(args.files), "done")
        _finish_replay_alerts(store, config, queued, notify=args.notify)
    finally:
        store.close()
    return exit_code


# --- backfill ------------------------------------------------------------------------------------


def _date_arg(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (use YYYY-MM-DD)") from exc


def cmd_backfill(args: argparse.Namespace) -> int:
    """Read each commitment's past from the search feeds; status changes as JSON lines, like replay."""
    from monitor.backfill import Backfill
    from monitor.fetch import Fetcher
    from monitor.pipeline import Monitor

    config = _config(args)
    if not config.sources.search:
        print(
            "trade-monitor backfill: sources.yaml has no search: list to read the past from", file=sys.stderr
        )
        return 2
    only = [args.commitment] if args.commitment else []
    if args.commitment:
        try:
            config.commitment(args.commitment)
        except KeyError:
            print(
                f"trade-monitor backfill: no commitment {args.commitment!r} in the watchlist", file=sys.stderr
            )
            return 2
    store = Store(_db(args))
    progress = progress_reporter("backfill", "windows")

    def emit(change: dict[str, object]) -> None:
        sys.stdout.write(json.dumps(change, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    async def go() -> int:
        interval = config.sources.backfill.min_host_interval
        async with Fetcher(min_host_interval=interval, per_host_limit=1) as fetcher:
            job = Backfill(Monitor(config, store), fetcher, on_change=emit, progress=progress)
            summary = await job.run(args.since, args.until, only)
        print(f"trade-monitor backfill: {summary.line()}", file=sys.stderr)
        if summary.failed or summary.empty:
            print(
                "trade-monitor backfill: failed and empty windows leave their periods unverified; "
                "run backfill again to retry the failed ones",
                file=sys.stderr,
            )
        return 0 if not summary.failed else 1

    try:
        return asyncio.run(go())
    finally:
        store.close()


def progress_reporter(command: str, unit: str) -> Callable[[int, int, str], None]:
    """Progress on stderr (stdout stays clean for JSON lines): a live bar on a terminal, else a plain
    line at most every 2 seconds and at the end. A total of 0 means "not known" (prune)."""
    import time

    if sys.stderr.isatty():
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            pass
        else:
            bar: list[Any] = []

            def live(done: int, total: int, what: str) -> None:
                if not bar:
                    bar.append(tqdm(total=total or None, unit=f" {unit}", desc=command, file=sys.stderr))
                bar[0].n = done
                bar[0].set_postfix_str(what, refresh=True)
                if total and done >= total:
                    bar[0].close()

            return live
    last = [0.0]

    def plain(done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= 2.0:
            last[0] = now
            count = f"{done}/{total}" if total else str(done)
            print(f"trade-monitor {command}: {count} {unit} ({what})", file=sys.stderr, flush=True)

    return plain


def _finish_replay_alerts(store: Store, config: Config, queued: list[int], notify: bool) -> None:
    """The alerts this replay made (and only those): delivered now with --notify, else marked skipped so
    a daemon on the same database never sends them. They were made now, whatever the documents' dates,
    so their retry age counts from now."""
    from sqlmodel import col, select

    from monitor.delivery import Deliverer
    from monitor.store import AlertRow

    now = utcnow()
    with store.session() as s:
        for alert in s.exec(
            select(AlertRow).where(col(AlertRow.id).in_(queued)).where(AlertRow.state == "pending")
        ).all():
            alert.created_at = alert.next_attempt_at = now
            if not notify:
                alert.state = "skipped"
            s.add(alert)
    if not notify:
        return
    deliverer = Deliverer(store, config, console=sys.stderr)
    sent = 0
    for _ in range(100):  # each round claims a batch; stop when a round delivers nothing new
        delivered = asyncio.run(deliverer.deliver_due(utcnow()))
        sent += delivered
        if not delivered:
            break
    mine = set(queued)
    left = [a for a in store.alerts(states=["pending", "failed"], limit=10_000) if a.id in mine]
    note = "; the daemon retries the pending ones" if left else ""
    print(f"trade-monitor replay: {sent} alerts delivered, {len(left)} not delivered{note}", file=sys.stderr)


# --- status and history --------------------------------------------------------------------------


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() + "\n")


def cmd_status(args: argparse.Namespace) -> int:
    config = _config(args)
    store = Store(_db(args))
    try:
        from monitor.export import STATUS_HEADERS, status_report

        records = status_report(config, store)
        if args.json:
            for record in records:
                sys.stdout.write(json.dumps(record) + "\n")
        else:
            rows = {r.id: r for r in store.commitments()}
            unverified = 0
            cells = []
            for record in records:
                cell = [v if v is not None else "-" for v in record.values()]
                row = rows.get(str(record["commitment"]))
                if row is not None and _overdue_unverified(store, config.commitment(row.id), row):
                    cell[1], unverified = f"{cell[1]} ({UNVERIFIED})", unverified + 1
                cells.append(cell)
            _table([list(STATUS_HEADERS), *cells], sys.stdout)
            if unverified:
                sys.stdout.write(
                    f"{unverified} commitments {UNVERIFIED}: their dates passed before watching began and "
                    "no search has read that period yet (`trade-monitor backfill`)\n"
                )
            _print_backfill(store, sys.stdout)
    finally:
        store.close()
    return 0


def _overdue_unverified(store: Store, commitment: Any, row: Any) -> bool:
    """A date the calendar would act on, had it been witnessed (see tracking.unverified_dates)."""
    from monitor.tracking import unverified_dates

    with store.session() as session:
        dates = unverified_dates(session, commitment, row, utcnow())
    return any(
        (which == "due" and row.status in ("pending", "in_progress"))
        or (which == "ends" and row.status not in ("broken", "expired"))
        for which, _ in dates
    )


def _print_backfill(store: Store, out: TextIO) -> None:
    from monitor.backfill import progress_of

    summary = progress_of(store)
    if summary is None:
        return
    state = "running or interrupted; `trade-monitor backfill` resumes" if summary.todo else "finished"
    out.write(f"backfill: {summary.line()}; {state}\n")


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
        # (sort key, shown time, line): a change never sorts before the one it followed, even when it
        # carries an earlier date (a report read after a calendar move), so the chain reads in order.
        events: list[tuple[dt.datetime, dt.datetime, str]] = []
        floor = dt.datetime.min.replace(tzinfo=dt.UTC)
        for c in changes:
            at = as_utc(c.at) or utcnow()
            floor = max(floor, at)
            events.append((floor, at, f"STATUS {c.from_status} -> {c.to_status} ({c.kind}): {c.reason}"))
        for e in evidence:
            when = as_utc(e.published) or as_utc(e.created_at) or utcnow()
            confirm = e.publisher
            if e.official:
                confirm = f"official, {e.official_party}" if e.official_party else "official"
            events.append(
                (
                    when,
                    when,
                    f"  evidence {e.signal} ({e.confidence:.2f}, {confirm}): {e.title}\n"
                    f'      {e.link}\n      "{e.sentence}"',
                )
            )
        for _key, when, line in sorted(events, key=lambda x: x[0]):
            out.write(f"{when:%Y-%m-%d %H:%M}  {line}\n")
        if not events:
            out.write("  no evidence yet\n")
    finally:
        store.close()
    return 0


# --- daemon --------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.scheduler import Daemon
    from monitor.web import WebError, endpoint_for

    address = args.http or os.environ.get("TRADE_MONITOR_HTTP") or None
    try:
        endpoint = endpoint_for(address) if address else None
    except WebError as exc:
        print(f"trade-monitor run: {exc}", file=sys.stderr)
        return 2
    daemon = Daemon(
        Path(args.config_dir),
        _db(args),
        poll_tick=args.tick,
        endpoint=endpoint,
        watch_config=not args.no_watch,
        rematch_lookback=args.lookback,
        retention=args.retention,
    )
    log.info("database: %s", redact_db_url(daemon.store.url))
    try:
        asyncio.run(daemon.run())
    except WebError as exc:  # the port is taken, say
        print(f"trade-monitor run: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from monitor.scheduler import Daemon

    if not args.once:
        print(
            "trade-monitor poll: only --once is supported; use `trade-monitor run` for the daemon",
            file=sys.stderr,
        )
        return 2

    async def go() -> int:
        daemon = Daemon(Path(args.config_dir), _db(args))
        try:
            if args.all:
                await asyncio.to_thread(daemon.store.make_all_due)
            outcomes = await daemon.poll_once()
            await daemon.deadlines_once()
            await daemon.deliver_once()
        finally:
            await daemon.shutdown()
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o] = counts.get(o, 0) + 1
        print(
            f"polled {len(outcomes)} sources: "
            + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none due")
        )
        return 0

    return asyncio.run(go())


def cmd_init(args: argparse.Namespace) -> int:
    """Write the shipped config where every command finds it, to edit from there."""
    target = Path(args.dir) if args.dir else user_config_dir()
    written = write_shipped_config(target, force=args.force)
    kept = sorted({p.name for p in shipped_config_dir().glob("*.yaml")} - {p.name for p in written})
    for path in written:
        print(f"wrote {path}")
    if kept:
        print(f"kept existing {', '.join(kept)} in {target} (--force overwrites)")
    if args.dir:
        print(f"use it with --config-dir {target} or TRADE_MONITOR_CONFIG={target}")
    else:
        print("every trade-monitor command finds it there when there is no ./config")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    """`db upgrade` runs the schema migrations a database lacks; `db current` shows its revision."""
    from monitor.store import schema

    url = _db(args)
    if args.action == "upgrade":
        store = Store(url, migrate=True)
        store.close()
        head = schema.head_revision()
        before, after = store.migrated or (head, head)
        if before == after:
            print(f"database {redact_db_url(url)} is up to date (schema revision {after})")
        else:
            print(f"database {redact_db_url(url)} upgraded: schema revision {before or 'none'} -> {after}")
        return 0
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = schema.current_revision(conn)
    finally:
        engine.dispose()
    head = schema.head_revision()
    if current is None:
        print(f"schema revision none: an empty database (any command creates the schema at {head})")
    else:
        state = "up to date" if current == head else f"needs `trade-monitor db upgrade` to {head}"
        print(f"schema revision {current}: {state}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    logging.getLogger().setLevel(logging.WARNING)  # the demo prints its own story; INFO lines would bury it

    return run_demo(Path(args.config_dir), sys.stdout)


# --- sources -------------------------------------------------------------------------------------


def cmd_sources(args: argparse.Namespace) -> int:
    """Each source's health: what an operator checks first when alerts stop coming; or, with an action,
    list, add or remove feeds in sources.yaml."""
    from monitor.pipeline import Monitor

    if getattr(args, "sources_command", None):
        from monitor.watchlist_edit import run_sources

        return run_sources(args)

    config = _config(args)
    store = Store(_db(args))
    try:
        Monitor(config, store)  # brings the table in line with sources.yaml
        from monitor.export import source_record, source_state

        rows = store.sources()
        if args.json:
            for r in rows:
                sys.stdout.write(json.dumps(source_record(r)) + "\n")
            return 0
        table = [["NAME", "STATE", "LAST SUCCESS", "LAST ERROR", "NEXT POLL", "ENTRIES", "URL"]]
        for r in rows:
            error = f"{r.error_kind}: {r.error_message}"[:50] if r.error_kind else "-"
            table.append(
                [
                    r.name,
                    source_state(r),
                    _short(r.last_success_at),
                    error,
                    _short(r.next_poll_at),
                    str(r.entries_seen),
                    r.url,
                ]
            )
        _table(table, sys.stdout)
    finally:
        store.close()
    return 0


def _short(value: dt.datetime | None) -> str:
    when = as_utc(value)
    return f"{when:%Y-%m-%d %H:%M}" if when else "-"


# --- alerts --------------------------------------------------------------------------------------


def cmd_alerts(args: argparse.Namespace) -> int:
    """The outbox: a table, or one alert with each target's delivery (targets shown redacted)."""
    store = Store(_db(args))
    out = sys.stdout
    try:
        if args.id is not None:
            match = [a for a in store.alerts(limit=1_000_000) if a.id == args.id]
            if not match:
                print(f"trade-monitor alerts: no alert {args.id}", file=sys.stderr)
                return 2
            a = match[0]
            out.write(
                f"alert {a.id}: {a.subject}\n  key {a.key}\n  state {a.state}, kind {a.kind}, severity "
                f"{a.severity}, route {a.route}, tags {', '.join(a.tag_list) or '-'}, mode {a.mode}\n"
                f"  created {as_utc(a.created_at):%Y-%m-%d %H:%M:%S} UTC, attempts {a.attempts}"
            )
            if a.sent_at:
                out.write(f", sent {as_utc(a.sent_at):%Y-%m-%d %H:%M:%S} UTC")
            if a.next_attempt_at and a.state in ("pending", "held"):
                out.write(f", next attempt {as_utc(a.next_attempt_at):%Y-%m-%d %H:%M:%S} UTC")
            out.write("\n")
            for label, value in (
                ("held", a.held_reason),
                ("folded into alert", a.folded_into),
                ("last error", a.last_error),
            ):
                if value:
                    out.write(f"  {label}: {value}\n")
            for d in store.deliveries(a.id or 0):
                out.write(
                    f"  -> {d.target}: {d.state}, {d.attempts} attempts"
                    f"{f', {d.redeliveries} resent after a crash' if d.redeliveries else ''}"
                    f"{f', error: {d.last_error}' if d.last_error else ''}\n"
                )
            return 0
        states = [args.state] if args.state else None
        rows = store.alerts(states=states, limit=args.limit)
        if not rows:
            print("no alerts")
            return 0
        table = [["ID", "STATE", "KIND", "ROUTE", "CREATED", "ATTEMPTS", "TARGETS", "SUBJECT", "LAST ERROR"]]
        for a in rows:
            deliveries = store.deliveries(a.id or 0)
            sent = sum(1 for d in deliveries if d.state == "sent")
            table.append(
                [
                    str(a.id),
                    a.state,
                    a.kind,
                    a.route,
                    f"{as_utc(a.created_at):%Y-%m-%d %H:%M}",
                    str(a.attempts),
                    f"{sent}/{len(deliveries)}" if deliveries else "-",
                    a.subject[:60],
                    (a.last_error or a.held_reason or "")[:60],
                ]
            )
        _table(table, out)
        failed = [a for a in rows if a.state in ("failed", "unknown")]
        if failed:
            out.write(
                f"{len(failed)} alerts not delivered; `trade-monitor alerts --id N` shows each target\n"
            )
    finally:
        store.close()
    return 0


def cmd_notify(args: argparse.Namespace) -> int:
    """`notify test`: a test message to each configured target, outside the outbox; prints each result."""
    from monitor.delivery import notify_test

    config = _config(args)
    if not config.notify_targets:
        print("notify.yaml has no targets: alerts go to the console")
        return 0
    results = asyncio.run(notify_test(config, args.tag, utcnow()))
    if not results:
        print(f"no target carries the tag {args.tag!r}")
        return 1
    for target, result in results:
        tags = ",".join(sorted(target.tags)) or "-"
        status = "ok" if result.ok else f"FAILED: {result.error}"
        print(f"{target.redacted}  tags={tags}  {status}")
    return 0 if all(r.ok for _, r in results) else 1


# --- operations: export, watchlist, set-status, prune ---------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    from monitor.export import render

    config = _config(args)
    store = Store(_db(args))
    try:
        data = render(args.format, config, store, base_url=args.base_url)
    finally:
        store.close()
    if args.output and args.output != "-":
        Path(args.output).write_bytes(data)
        print(
            f"wrote {len(config.commitments)} commitments to {args.output} ({args.format})", file=sys.stderr
        )
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def cmd_watchlist(args: argparse.Namespace) -> int:
    from monitor.watchlist_edit import run

    return run(args)


def cmd_set_status(args: argparse.Namespace) -> int:
    """A human decision: recorded in the history as kind `manual`, alerted like any change.

    It is a status like any other afterwards: later evidence can move it again under the usual rules.
    """
    from monitor.delivery import Alerter, Deliverer
    from monitor.tracking import Tracker

    config = _config(args)
    try:
        config.commitment(args.id)
    except KeyError:
        print(f"trade-monitor set-status: no commitment {args.id!r} in the watchlist", file=sys.stderr)
        return 2
    store = Store(_db(args))
    try:
        now = utcnow()
        tracker = Tracker(config.commitments, config.watchlist.policy)
        with store.session() as session:
            event = tracker.set_status(session, args.id, args.status, args.note or "", now)
            alerts = Alerter(config).enqueue(session, [event], now) if event is not None else []
        if event is None or event.change is None:
            print(f"{args.id} is already {args.status}; nothing changed")
            return 0
        before = event.change.from_status
        log.info(
            "%s: %s -> %s set by an operator", args.id, before, args.status, extra={"commitment": args.id}
        )
        print(f"{args.id}: {before} -> {args.status} (manual); {len(alerts)} alerts queued")
        if args.deliver and alerts:
            sent = asyncio.run(Deliverer(store, config).deliver_due(utcnow()))
            print(f"{sent} alerts delivered")
    finally:
        store.close()
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """Exit 0 when the running daemon answers /readyz (or /healthz with --live) with 200; for Docker."""
    import httpx

    from monitor.web import DEFAULT_HOST, DEFAULT_PORT, parse_address

    host, port = parse_address(args.http or os.environ.get("TRADE_MONITOR_HTTP") or f"{DEFAULT_PORT}")
    host = DEFAULT_HOST if host in ("0.0.0.0", "::") else host
    url = f"http://{host}:{port}/{'healthz' if args.live else 'readyz'}"
    try:
        with httpx.Client(trust_env=False, timeout=args.timeout) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        print(f"{url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"{url}: {response.status_code} {response.text.strip()}")
    return 0 if response.status_code == 200 else 1


def cmd_prune(args: argparse.Namespace) -> int:
    store = Store(_db(args))
    try:
        cutoff = utcnow() - dt.timedelta(seconds=args.older_than)
        progress = progress_reporter("prune", "entries removed")
        removed = store.prune_entries(cutoff, progress=lambda n: progress(n, 0, f"batch of {n}"))
    finally:
        store.close()
    print(f"removed {removed} entries without evidence fetched before {cutoff:%Y-%m-%d %H:%M} UTC")
    return 0


def _duration_or_off(value: str) -> float | None:
    from monitor.config import parse_duration

    if value.strip().lower() in ("0", "off", "none", "never"):
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _duration(value: str) -> float:
    seconds = _duration_or_off(value)
    return seconds if seconds is not None else 0.0


# --- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trade-monitor",
        description="Track whether governments keep their trade commitments: polls feeds, reads the "
        "reports, moves each commitment's status and sends alerts through Apprise.",
    )
    parser.add_argument("--version", action="version", version=f"trade-monitor {__version__}")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("TRADE_MONITOR_LOG_LEVEL", "INFO"),
        help="DEBUG, INFO, WARNING or ERROR (default INFO)",
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default=os.environ.get("TRADE_MONITOR_LOG_FORMAT", "text"),
        help="text (human-readable, default) or json (one object per line)",
    )
    config_help = (
        "config directory (default: $TRADE_MONITOR_CONFIG, else ./config, else the user config directory "
        "that `trade-monitor init` writes)"
    )
    db_help = "database URL (default: $TRADE_MONITOR_DB or a SQLite file in the user data dir)"
    # Global options go before or after the command (git style): the command's copy defaults to
    # SUPPRESS, so it only overrides the global one when given.
    parser.add_argument("--config-dir", type=Path, default=None, help=config_help)
    parser.add_argument("--db", default=None, help=db_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        name: str, handler: Handler, help_text: str, *, db: bool = False, config: bool = True
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, help=config_help)
        if db:
            p.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
        p.set_defaults(handler=handler, needs_config=config)
        return p

    p = command(
        "init",
        cmd_init,
        "write the shipped config to DIR or the user config directory, where every command finds it",
        config=False,
    )
    p.add_argument("dir", nargs="?", default=None, metavar="DIR", help="where (default: user config dir)")
    p.add_argument("--force", action="store_true", help="overwrite files that already exist")

    p = command("run", cmd_run, "run the daemon: poll feeds, track statuses, send alerts", db=True)
    p.add_argument("--tick", type=float, default=30.0, help="seconds between checks for due sources")
    p.add_argument(
        "--http",
        metavar="HOST:PORT",
        default=None,
        help="serve the web board (/, /api, /changes.atom) and /healthz, /readyz, /metrics here, e.g. "
        "127.0.0.1:8787 (default: off, or $TRADE_MONITOR_HTTP); a bare port binds 127.0.0.1; any other "
        "address needs $TRADE_MONITOR_WEB_TOKEN or $TRADE_MONITOR_WEB_TOKEN_FILE",
    )
    p.add_argument(
        "--no-watch",
        action="store_true",
        help="do not reload when files in the config directory change (SIGHUP still reloads)",
    )
    p.add_argument(
        "--lookback",
        type=_duration,
        default=7 * 86400.0,
        metavar="DURATION",
        help="match commitments added by a reload against entries this recent (default 7d; 0: off)",
    )
    p.add_argument(
        "--retention",
        type=_duration_or_off,
        default=90 * 86400.0,
        metavar="DURATION",
        help="prune entries without evidence older than this, daily (default 90d; 'off' keeps all)",
    )
    p = command("poll", cmd_poll, "poll the sources that are due once, deliver alerts, and exit", db=True)
    p.add_argument("--once", action="store_true", help="poll once and exit (required)")
    p.add_argument("--all", action="store_true", help="poll every enabled source, due or not")
    p = command(
        "db", cmd_db, "database schema: `db upgrade` migrates an older database, keeping every row", db=True
    )
    p.add_argument(
        "action",
        choices=["upgrade", "current"],
        help="upgrade: run missing migrations; current: show revision",
    )
    command("check-config", cmd_check_config, "validate the config directory without running")
    p = command(
        "status", cmd_status, "show each commitment's status, since when, last evidence and dates", db=True
    )
    p.add_argument("--json", action="store_true", help="one JSON object per commitment")
    p = command(
        "history", cmd_history, "show a commitment's timeline of evidence and status changes", db=True
    )
    p.add_argument("id", help="commitment id")
    command("demo", cmd_demo, "replay an invented scenario through the real pipeline and show what happens")
    p = command(
        "match",
        cmd_match,
        "read reports as JSON lines on stdin, write one JSON line of matches per report; no database",
    )
    p.add_argument(
        "--explain", action="store_true", help="add an 'explain' list with the reasons per commitment"
    )
    p = command(
        "explain",
        cmd_explain,
        "show which terms and cue decided each commitment for a text (first line is the title)",
    )
    p.add_argument("text", help="the report text, or - to read it from stdin")
    p.add_argument(
        "--published", default=None, help="publication date (ISO); older than a commitment = no match"
    )
    p = command(
        "eval", cmd_eval, "measure the evidence engine on a labelled set (precision, recall, accuracy)"
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="labelled JSON lines (default: the labelled set that ships with the package)",
    )
    p.add_argument("--split", choices=["all", "dev", "heldout"], default="all")
    p.add_argument("--errors", type=int, default=20, help="how many mistakes to list")
    p = command(
        "replay",
        cmd_replay,
        "ingest saved feed documents in order and print each status change as a JSON line",
        db=True,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="RSS or Atom documents")
    p.add_argument("--notify", action="store_true", help="also deliver the alerts through notify.yaml")
    p.add_argument("--now", default=None, help="treat every document as fetched at this ISO time")
    p.add_argument(
        "--deadlines",
        action="store_true",
        help="also run the daily deadline check at each document's time (overdue, expired)",
    )
    p = command(
        "backfill",
        cmd_backfill,
        "read each commitment's past from the search feeds (sources.yaml search:) and print each status "
        "change as a JSON line, like replay; resumable",
        db=True,
    )
    p.add_argument("--since", type=_date_arg, default=None, metavar="DATE", help="from (default: announced)")
    p.add_argument("--until", type=_date_arg, default=None, metavar="DATE", help="to (default: today)")
    p.add_argument("--commitment", default=None, metavar="ID", help="only this commitment")
    p = command(
        "export",
        cmd_export,
        "export commitments with status, progress and evidence (json, csv), deadlines (ics) or the "
        "latest status changes as an Atom feed (atom)",
        db=True,
    )
    p.add_argument("--format", choices=["json", "csv", "ics", "atom"], default="json")
    p.add_argument("--output", "-o", default=None, metavar="FILE", help="write here instead of stdout")
    p.add_argument(
        "--base-url",
        default="http://127.0.0.1:8787",
        metavar="URL",
        help="where the web board is reached, for the Atom feed's links (default: http://127.0.0.1:8787)",
    )
    p = command("watchlist", cmd_watchlist, "list, add or remove commitments in watchlist.yaml")
    from monitor.watchlist_edit import register

    register(p.add_subparsers(dest="watchlist_command", metavar="ACTION", required=True))
    p = command(
        "set-status",
        cmd_set_status,
        "set a commitment's status by hand; recorded in its history and alerted like any change",
        db=True,
    )
    p.add_argument("id", help="commitment id")
    p.add_argument("status", choices=list(STATUSES))
    p.add_argument("--note", default="", help="why: shown in the history and the alert")
    p.add_argument(
        "--deliver", action="store_true", help="deliver the alert now instead of leaving it to the daemon"
    )
    p = command(
        "healthcheck",
        cmd_healthcheck,
        "ask a running daemon's /readyz (exit 0 if ready, 1 if not); for container health checks",
        config=False,
    )
    p.add_argument(
        "--http",
        metavar="HOST:PORT",
        default=None,
        help="where the daemon listens (default: $TRADE_MONITOR_HTTP or 127.0.0.1:8787)",
    )
    p.add_argument("--live", action="store_true", help="check /healthz (liveness) instead of /readyz")
    p.add_argument("--timeout", type=float, default=5.0)
    p = command(
        "prune", cmd_prune, "remove entries without evidence older than a given age", db=True, config=False
    )
    p.add_argument(
        "--older-than",
        type=_duration,
        default=90 * 86400.0,
        metavar="DURATION",
        help="age such as 90d (default 90d)",
    )
    p = command(
        "sources", cmd_sources, "show each source's state, last success, last error and next poll", db=True
    )
    p.add_argument("--json", action="store_true", help="one JSON object per source")
    from monitor.watchlist_edit import register_sources

    register_sources(p.add_subparsers(dest="sources_command", metavar="ACTION", required=False))
    p = command("notify", cmd_notify, "send a test message to each notification target and print each result")
    p.add_argument("action", choices=["test"], help="test: send a test message")
    p.add_argument("--tag", default=None, help="only targets carrying this tag")
    p = command(
        "alerts", cmd_alerts, "list alerts in the outbox with their delivery state", db=True, config=False
    )
    p.add_argument("--id", type=int, default=None, help="show one alert with each target's delivery")
    p.add_argument(
        "--state",
        default=None,
        choices=[
            "pending",
            "held",
            "sent",
            "console",
            "failed",
            "unknown",
            "digest",
            "digested",
            "folded",
            "muted",
            "skipped",
        ],
        help="only alerts in this delivery state (console: printed, no target configured)",
    )
    p.add_argument(
        "--limit", type=int, default=50, help="show at most this many alerts, newest first (default 50)"
    )
    return parser


def configure_logging(level: str, fmt: str = "text") -> None:
    """Human-readable or JSON lines on stderr, secrets redacted (see monitor.observability)."""
    from monitor.observability import configure_logging as setup

    setup(level, fmt)


def _find_config(args: argparse.Namespace) -> Path:
    """The config search; the demo alone falls back to the shipped config, since it changes nothing."""
    try:
        return find_config_dir(args.config_dir)
    except ConfigNotFoundError:
        if args.command == "demo" and args.config_dir is None:
            return shipped_config_dir()
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, args.log_format)
    try:
        if args.needs_config:
            args.config_dir = _find_config(args)
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"trade-monitor {args.command}: invalid config:\n{exc}", file=sys.stderr)
        return 2
    except TradeMonitorError as exc:
        print(f"trade-monitor {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `trade-monitor status | head` closed the pipe: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
