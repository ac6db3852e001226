"""Observability: Prometheus metrics, log formatting and the redaction of secrets from logs.

Users run the daemon unattended for months, so what it exposes must answer "is it working?" without a
shell on the box:

- `Metrics` owns one `CollectorRegistry` per daemon (tests run several daemons in one process, and the
  global default registry would make their counters collide). Event counters (polls, entries, evidence,
  status changes) move through the `PipelineHooks` calls the pipeline makes; state that lives in the
  database (outbox depth, alerts by state, poll lag, last success) is read at scrape time by
  `StoreCollector`, so it is right even when several workers share one database or the daemon restarted.
- `configure_logging` gives human-readable lines by default and JSON lines with ``--log-format json``;
  every line carries the ``source`` or ``commitment`` it concerns when there is one.
- `Redactor` removes secrets (tokens in Apprise URLs, database passwords) from every line our handler
  writes, whatever logger produced it (Apprise and httpx log URLs of their own).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from monitor import __version__

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.fetch import FetchResult
    from monitor.pipeline import IngestOutcome
    from monitor.store import EvidenceRow, StatusChangeRow, Store

log = logging.getLogger("monitor.observability")
status_log = logging.getLogger("monitor.status")

# --- secrets and redaction -----------------------------------------------------------------------

# user:password@ in any URL, whatever its scheme (Apprise has dozens of schemes; databases a few more).
_USERINFO = re.compile(
    r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<user>[^\s:/@'\"<>]*):(?P<pw>[^\s@/'\"<>]+)@", re.I
)
# Query parameters that carry credentials by name.
_SECRET_PARAM = re.compile(
    r"(?P<key>[?&](?:token|access_token|apikey|api_key|key|secret|password|pass|pwd|auth|signature|sig)=)"
    r"(?P<value>[^&\s'\"<>]+)",
    re.I,
)
MASK = "***"
_MIN_SECRET_LEN = 4
# Path segments and query values of Apprise URLs shorter than this are words (``hook``, ``json``), not tokens.
_MIN_TOKEN_LEN = 8


# Schemes whose host part is a real host name, not a token.
_HOST_SCHEMES = frozenset(
    {"http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos"}
)


def secrets_of_url(url: str) -> set[str]:
    """The parts of a notification or database URL that must never be shown.

    The whole URL, its password, and every path segment or query value long enough to be a token:
    Apprise puts tokens in different places per service (``tgram://TOKEN/CHAT``,
    ``discord://ID/TOKEN``, ``json://user:TOKEN@host/path``), so it is safer to hide every long part
    than to know each scheme.
    """
    out: set[str] = set()
    url = url.strip()
    if not url:
        return out
    out.add(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return out
    netloc = parts.netloc
    if "@" in netloc:
        userinfo = netloc.rsplit("@", 1)[0]
        user, _, password = userinfo.partition(":")
        if password:
            out.update({password, unquote(password)})
        elif user and len(user) >= _MIN_TOKEN_LEN:  # a bare token as user (``tgram://TOKEN@...``)
            out.update({user, unquote(user)})
    out.update(_authority_secrets(parts.scheme.lower(), netloc.rsplit("@", 1)[-1]))
    for segment in parts.path.split("/"):
        if len(segment) >= _MIN_TOKEN_LEN:
            out.update({segment, unquote(segment)})
    for _key, value in parse_qsl(parts.query, keep_blank_values=False):
        if len(value) >= _MIN_TOKEN_LEN:
            out.update({value, quote(value, safe="")})
    return {s for s in out if len(s) >= _MIN_SECRET_LEN}


def _authority_secrets(scheme: str, authority: str) -> set[str]:
    """Host and port positions of an Apprise URL that hold tokens.

    For most services the "host" is a token or an id, and some tokens contain a colon, so their second
    half sits where a port would (``tgram://123456789:TOKEN/CHAT``). Only a real host name of a web or
    mail scheme, and a numeric port, are safe to show.
    """
    host, _, port = authority.partition(":")
    out: set[str] = set()
    if scheme not in _HOST_SCHEMES:
        out.update(p for p in (host, authority) if len(p) >= _MIN_TOKEN_LEN)
    if port and not port.isdigit():
        out.update({port, unquote(port), authority})
    return out


class Redactor:
    """Replaces known secrets and credential-shaped substrings with ``***``.

    Known secrets come from the config (notify.yaml) and the database URL and are registered as they are
    loaded; the patterns catch credentials we were never told about (a URL in an exception message).
    Thread-safe, because log records are formatted in whichever thread logged them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            known = set(self._secrets) | {s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}
            self._secrets = tuple(sorted(known, key=len, reverse=True))
            self._pattern = (
                re.compile("|".join(re.escape(s) for s in self._secrets)) if self._secrets else None
            )

    def add_url(self, url: str) -> None:
        self.add(secrets_of_url(url))

    def add_db_url(self, url: str) -> None:
        """A database URL's password (the rest of it is fine to log, and useful)."""
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            self.add({password, unquote(password), quote(password, safe="")})

    def add_config(self, config: Config) -> None:
        """Register every notification URL of a (re)loaded config."""
        for target in config.notify_targets:
            self.add_url(target.url)

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{MASK}@", text)
        return _SECRET_PARAM.sub(lambda m: f"{m.group('key')}{MASK}", text)


# One per process: secrets are a property of what the process has loaded, and every handler needs them.
REDACTOR = Redactor()


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, arguments and exception text with secrets masked.

    Installed on the handler, so records from any logger (ours, Apprise's, httpx's) are covered; the
    record is rewritten in place, so handlers that run after ours see the redacted text too.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or REDACTOR

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the line, nor leak its arguments
            message = str(record.msg)
        record.msg, record.args = self.redactor.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)
        for key in _CONTEXT_KEYS:
            value = getattr(record, key, None)
            if isinstance(value, str):
                setattr(record, key, self.redactor.redact(value))
        return True


# --- log context ---------------------------------------------------------------------------------

_CONTEXT_KEYS = ("source", "commitment")
_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("log_context", default=None)


@contextlib.contextmanager
def log_context(**values: str) -> Iterator[None]:
    """Tag every line logged inside the block (in this task or thread) with e.g. ``source=...``."""
    current = dict(_context.get() or {})
    current.update({k: v for k, v in values.items() if v})
    token = _context.set(current)
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Fills ``source`` and ``commitment`` from `log_context` when the call did not pass them in extra."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get() or {}
        for key in _CONTEXT_KEYS:
            if getattr(record, key, None) is None and key in context:
                setattr(record, key, context[key])
        return True


class HumanFormatter(logging.Formatter):
    """``time LEVEL logger: message [source=...]``; the context goes last so messages line up."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{k}={getattr(record, k)}" for k in _CONTEXT_KEYS if getattr(record, k, None))
        if context:
            head, sep, rest = line.partition("\n")
            line = f"{head} [{context}]{sep}{rest}"
        return REDACTOR.redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                doc[key] = str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exception"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        return REDACTOR.redact(json.dumps(doc, ensure_ascii=False))


def install_redacting_record_factory() -> None:
    """Redact every record as it is created, so every handler (not only ours) sees clean text.

    Records are only created for enabled levels, so the eager formatting costs nothing for filtered-out
    debug lines. Installed once per process; later calls are no-ops.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "_trade_monitor", False):
        return
    redact = RedactingFilter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact.filter(record)
        return record

    factory._trade_monitor = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler.executors.default", "apscheduler.scheduler", "watchfiles")


class RepeatLimitFilter(logging.Filter):
    """Lets a line that repeats in a tight loop through once per ``interval`` seconds, with a count.

    When file descriptors run out, asyncio logs "socket.accept() out of system resource" for every
    connection it cannot accept, dozens of times a second; the first line says all there is to say.
    """

    # (logger, start of the message) pairs known to repeat in a loop under load
    LOOPING = (("asyncio", "socket.accept() out of system resource"),)

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval, self.clock = interval, clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = next(
            (m for name, m in self.LOOPING if record.name == name and str(record.msg).startswith(m)), None
        )
        if key is None:
            return True
        now = self.clock()
        if now - self._last.get(key, -self.interval) < self.interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        skipped = self._suppressed.pop(key, 0)
        if skipped:
            record.msg = f"{record.msg} ({skipped} more like this in the last {self.interval:.0f} s)"
        return True


def configure_logging(
    level: str = "INFO", fmt: str = "text", stream: TextIO | None = None
) -> logging.Handler:
    """Install our one handler on the root logger, replacing any earlier one of ours.

    Returns the handler so tests can remove it. ``fmt`` is ``text`` (human-readable) or ``json``.
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_trade_monitor", False):
            root.removeHandler(old)
            old.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler._trade_monitor = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    handler.addFilter(RepeatLimitFilter())
    root.addHandler(handler)
    install_redacting_record_factory()
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


# --- metrics -------------------------------------------------------------------------------------


class PipelineHooks:
    """What the pipeline reports as it works; the default does nothing (CLI commands, tests).

    Kept as plain method calls so the pipeline does not depend on prometheus-client, and a hook that
    fails can never fail a poll (`Metrics` swallows its own errors).
    """

    def on_poll(self, source: str, result: FetchResult) -> None:
        """One source was polled (any outcome)."""

    def on_ingest(self, source: str, outcome: IngestOutcome, evidence: Sequence[EvidenceRow]) -> None:
        """A document produced entries, evidence and status changes (``source`` is "" for a re-match)."""

    def on_changes(self, changes: Sequence[StatusChangeRow], source: str | None = None) -> None:
        """Status changes that did not come from a document (deadlines, manual overrides)."""


NULL_HOOKS = PipelineHooks()

FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


class Metrics(PipelineHooks):
    """Every metric of one daemon, in its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter(
            "trade_monitor_polls",
            "Source polls by outcome (new, not_modified, unchanged, error, gone).",
            ["outcome"],
            registry=r,
        )
        self.source_failures = Counter(
            "trade_monitor_source_failures",
            "Failed polls by source and error kind.",
            ["source", "kind"],
            registry=r,
        )
        self.fetch_duration = Histogram(
            "trade_monitor_fetch_duration_seconds",
            "Time to fetch one source, redirects and body included.",
            ["outcome"],
            buckets=FETCH_BUCKETS,
            registry=r,
        )
        self.entries = Counter(
            "trade_monitor_entries_ingested", "New entries stored, by source.", ["source"], registry=r
        )
        self.evidence = Counter(
            "trade_monitor_evidence", "Evidence recorded, by signal.", ["signal"], registry=r
        )
        self.status_changes = Counter(
            "trade_monitor_status_changes",
            "Commitment status changes by new status and kind (evidence, deadline, manual).",
            ["to", "kind"],
            registry=r,
        )
        self.alerts_enqueued = Counter(
            "trade_monitor_alerts_enqueued", "Alerts put in the outbox by the pipeline.", registry=r
        )
        self.last_poll = Gauge(
            "trade_monitor_last_poll_timestamp_seconds",
            "When the daemon last finished a poll tick (Unix time).",
            registry=r,
        )
        self.reloads = Counter(
            "trade_monitor_config_reloads",
            "Config reloads by outcome (applied, rejected).",
            ["outcome"],
            registry=r,
        )
        self.last_reload = Gauge(
            "trade_monitor_config_last_reload_success_timestamp_seconds",
            "When a config was last loaded successfully (Unix time).",
            registry=r,
        )
        self.config_ok = Gauge(
            "trade_monitor_config_last_reload_ok",
            "1 when the last reload attempt was "
            "applied, 0 when it was rejected and an older config is running.",
            registry=r,
        )
        self.pruned = Counter(
            "trade_monitor_entries_pruned",
            "Entries without evidence removed by the retention job.",
            registry=r,
        )
        info = Gauge(
            "trade_monitor_build_info", "Version of the running trade-monitor.", ["version"], registry=r
        )
        info.labels(version=__version__).set(1)
        for outcome in ("new", "not_modified", "unchanged", "error", "gone"):
            self.polls.labels(outcome=outcome)  # so rate() works from the first scrape
        for outcome in ("applied", "rejected"):
            self.reloads.labels(outcome=outcome)
        self.config_ok.set(1)
        self.last_reload.set_to_current_time()

    def on_poll(self, source: str, result: FetchResult) -> None:
        try:
            self.polls.labels(outcome=result.outcome).inc()
            self.fetch_duration.labels(outcome=result.outcome).observe(max(0.0, float(result.elapsed)))
            if result.outcome in ("error", "gone"):
                self.source_failures.labels(source=source, kind=result.error_kind or "unknown").inc()
        except Exception:  # metrics must never break a poll
            log.debug("metrics hook failed", exc_info=True)

    def on_ingest(self, source: str, outcome: IngestOutcome, evidence: Sequence[EvidenceRow]) -> None:
        try:
            if outcome.new_entries and source:
                self.entries.labels(source=source).inc(outcome.new_entries)
            for ev in evidence:
                self.evidence.labels(signal=ev.signal).inc()
            if outcome.alerts:
                self.alerts_enqueued.inc(outcome.alerts)
        except Exception:
            log.debug("metrics hook failed", exc_info=True)
        self.on_changes(outcome.changes, source)

    def on_changes(self, changes: Sequence[StatusChangeRow], source: str | None = None) -> None:
        for change in changes:
            try:
                self.status_changes.labels(to=change.to_status, kind=change.kind).inc()
            except Exception:
                log.debug("metrics hook failed", exc_info=True)
            extra = {"commitment": change.commitment_id, **({"source": source} if source else {})}
            status_log.info(
                "%s: %s -> %s (%s)",
                change.commitment_id,
                change.from_status,
                change.to_status,
                change.kind,
                extra=extra,
            )

    def on_reload(self, applied: bool) -> None:
        self.reloads.labels(outcome="applied" if applied else "rejected").inc()
        self.config_ok.set(1 if applied else 0)
        if applied:
            self.last_reload.set_to_current_time()

    def add_store(self, store: Store) -> StoreCollector:
        collector = StoreCollector(store)
        self.registry.register(collector)
        return collector


class StoreCollector(Collector):
    """Reads what lives in the database at scrape time: outbox, alerts, sources, commitments.

    Computed from the store rather than counted in memory so the figures survive restarts and agree
    across workers sharing one database. A database that cannot be read yields
    ``trade_monitor_store_up 0`` instead of a failed scrape, so the alert says what is wrong.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # unchecked: the families depend on the data, and a scrape must not run at registration

    def collect(self) -> Iterable[GaugeMetricFamily]:
        up = GaugeMetricFamily("trade_monitor_store_up", "1 when the database answered this scrape.")
        try:
            stats = self.store.ops_stats(dt.datetime.now(dt.UTC))
        except Exception as exc:
            log.warning("metrics: cannot read the database: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "trade_monitor_outbox_depth", "Alerts waiting in the outbox (pending).", value=stats.outbox_depth
        )
        yield GaugeMetricFamily(
            "trade_monitor_outbox_oldest_age_seconds",
            "Age of the oldest pending alert (0 when the outbox is empty).",
            value=stats.outbox_oldest_age,
        )
        alerts = GaugeMetricFamily(
            "trade_monitor_alerts",
            "Alerts in the outbox by outcome (pending, sent, failed, skipped, held) and route.",
            labels=["outcome", "route"],
        )
        for (state, route), count in sorted(stats.alerts.items()):
            alerts.add_metric([state, route], count)
        yield alerts
        yield GaugeMetricFamily(
            "trade_monitor_poll_lag_seconds",
            "How far past its planned poll time the most overdue enabled source is (0 when none is late).",
            value=stats.poll_lag,
        )
        yield GaugeMetricFamily(
            "trade_monitor_last_successful_poll_timestamp_seconds",
            "When any source last answered successfully (Unix time; 0 if never).",
            value=stats.last_success,
        )
        sources = GaugeMetricFamily("trade_monitor_sources", "Configured sources by state.", labels=["state"])
        for state, count in sorted(stats.sources.items()):
            sources.add_metric([state], count)
        yield sources
        failing = GaugeMetricFamily(
            "trade_monitor_source_consecutive_failures",
            "Consecutive failed polls of each failing source.",
            labels=["source"],
        )
        for name, count in sorted(stats.failing.items()):
            failing.add_metric([name], count)
        yield failing
        commitments = GaugeMetricFamily(
            "trade_monitor_commitments", "Tracked commitments by status.", labels=["status"]
        )
        for status, count in sorted(stats.commitments.items()):
            commitments.add_metric([status], count)
        yield commitments


# --- systemd -------------------------------------------------------------------------------------


def sd_notify(state: str) -> bool:
    """Tell systemd (``Type=notify``) about the daemon's state, e.g. ``READY=1``; a no-op elsewhere.

    The protocol is one datagram to ``$NOTIFY_SOCKET``, so no library is needed.
    """
    import os
    import socket

    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
        return True
    except OSError as exc:
        log.debug("sd_notify failed: %s", exc)
        return False
