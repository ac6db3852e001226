"""A database with known content for the web board's tests and benchmark.

Four hand-written commitments cover what the pages must show (a quantity target with reported figures,
a fulfilled change corroborated by two publishers and an official word from each side, a status set by
hand, an unconfirmed signal, hostile feed text), and `extra` generated ones give the benchmark its size.
Rows go in through the store's own models, as the pipeline writes them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlmodel import select

from monitor.config import load_config
from monitor.pipeline import Monitor
from monitor.store import (
    AlertRow,
    CommitmentRow,
    DeliveryRow,
    EvidenceRow,
    SourceRow,
    StatusChangeRow,
    Store,
)

WATCHLIST = """\
version: 1
policy:
  min_independent_publishers: 2
commitments:
  - id: cn-soybeans
    title: China buys 12 million tons of US soybeans
    party: China
    category: purchase
    announced: 2025-10-30
    due: 2026-12-31
    target: {value: 12, unit: million tons}
    terms:
      aliases: [soybeans]
  - id: us-fentanyl-tariff-cut
    title: US cuts the fentanyl tariff on Chinese goods to 10%
    party: US
    category: tariff
    announced: 2025-11-01
    terms:
      aliases: [fentanyl tariff]
  - id: us-port-fees
    title: US suspends port fees on China-linked ships
    party: US
    category: shipping
    announced: 2025-11-01
    ends: 2030-11-09
    terms:
      aliases: [port fees]
  - id: cn-rare-earths
    title: China suspends rare-earth export controls
    party: China
    category: export-controls
    announced: 2025-11-01
    ends: 2030-11-10
    stated_by: [US]
    terms:
      aliases: [rare earths]
"""

GENERATED = """\
  - id: gen-{n:04d}
    title: Generated commitment number {n}
    party: {party}
    category: {category}
    announced: 2025-11-01
    due: 2027-0{month}-15
    terms:
      aliases: [generated subject {n}]
"""

HOSTILE_LINK = "java\tscript:alert(1)"
HOSTILE_TITLE = "<script>alert('x')</script> fentanyl tariff"


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


def write_board_config(folder: Path, extra: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    generated = "".join(
        GENERATED.format(
            n=n,
            party=("US", "China")[n % 2],
            category=("tariff", "purchase", "shipping")[n % 3],
            month=1 + n % 9,
        )
        for n in range(extra)
    )
    (folder / "watchlist.yaml").write_text(WATCHLIST + generated, encoding="utf-8")
    (folder / "sources.yaml").write_text(
        "version: 1\nsources:\n  - name: Local wire\n    url: http://127.0.0.1:9/feed.xml\n"
        "  - name: Broken feed\n    url: http://127.0.0.1:9/broken.xml\n",
        encoding="utf-8",
    )
    (folder / "notify.yaml").write_text("version: 1\nurls: []\n", encoding="utf-8")
    return folder


def _ev(cid: str, signal: str, day: str, publisher: str, **more: object) -> EvidenceRow:
    fields: dict[str, object] = {
        "commitment_id": cid,
        "signal": signal,
        "confidence": 0.9,
        "publisher": publisher,
        "source_name": "Local wire",
        "published": at(day),
        "link": f"https://{publisher}/{cid}/{day}",
        "title": f"{publisher} on {cid}",
        "sentence": f"The sentence from {publisher} that decided {signal}.",
    }
    fields.update(more)
    return EvidenceRow(**fields)  # type: ignore[arg-type]


def _status(store: Store, cid: str, status: str, since: dt.datetime, **more: object) -> None:
    with store.session() as s:
        row = s.get(CommitmentRow, cid)
        assert row is not None
        row.status, row.status_since = status, since
        for key, value in more.items():
            setattr(row, key, value)
        s.add(row)


def _change(
    store: Store, cid: str, old: str, new: str, when: dt.datetime, kind: str, reason: str, ids: list[int]
) -> None:
    with store.session() as s:
        s.add(
            StatusChangeRow(
                commitment_id=cid,
                from_status=old,
                to_status=new,
                at=when,
                kind=kind,
                reason=reason,
                evidence_ids=json.dumps(ids),
            )
        )


def _add(store: Store, *rows: EvidenceRow) -> list[int]:
    with store.session() as s:
        for r in rows:
            s.add(r)
        s.flush()
        return [int(r.id or 0) for r in rows]


def build_board_db(folder: Path, extra: int = 0) -> tuple[Path, str]:
    """The config folder and database URL of a board with known content (plus `extra` commitments)."""
    config_dir = write_board_config(folder / "config", extra)
    url = f"sqlite:///{folder / 'board.sqlite'}"
    config = load_config(config_dir)
    store = Store(url)
    try:
        Monitor(config, store)  # creates the commitment and source rows from the config
        _known(store)
        for n in range(extra):
            _generated(store, f"gen-{n:04d}", n)
        _ops(store)
    finally:
        store.close()
    return config_dir, url


def _known(store: Store) -> None:
    soy = _add(
        store,
        _ev(
            "cn-soybeans",
            "progress",
            "2025-12-01",
            "reuters.com",
            quantity_value=3.0,
            quantity_unit="million tons",
        ),
        _ev(
            "cn-soybeans",
            "progress",
            "2026-03-01",
            "usda.gov",
            quantity_value=8.0,
            quantity_unit="million tons",
        ),
    )
    _change(
        store,
        "cn-soybeans",
        "pending",
        "in_progress",
        at("2025-12-01"),
        "evidence",
        "first purchases",
        soy[:1],
    )
    _status(
        store,
        "cn-soybeans",
        "in_progress",
        at("2025-12-01"),
        progress_value=8.0,
        progress_at=at("2026-03-01"),
        last_evidence_at=at("2026-03-01"),
    )

    fent = _add(
        store,
        _ev("us-fentanyl-tariff-cut", "fulfilled", "2025-11-10", "apnews.com"),
        _ev("us-fentanyl-tariff-cut", "fulfilled", "2025-11-10", "bbc.co.uk"),
        _ev(
            "us-fentanyl-tariff-cut",
            "fulfilled",
            "2025-11-11",
            "whitehouse.gov",
            official=True,
            official_party="US",
        ),
        _ev(
            "us-fentanyl-tariff-cut",
            "progress",
            "2025-11-12",
            "mofcom.gov.cn",
            official=True,
            official_party="China",
        ),
        _ev(
            "us-fentanyl-tariff-cut",
            "mention",
            "2025-11-13",
            "evil.example",
            link=HOSTILE_LINK,
            title=HOSTILE_TITLE,
        ),
    )
    _change(
        store,
        "us-fentanyl-tariff-cut",
        "pending",
        "fulfilled",
        at("2025-11-10", 18),
        "evidence",
        "cut to 10% took effect, reported by AP and BBC",
        fent[:2],
    )
    _status(
        store, "us-fentanyl-tariff-cut", "fulfilled", at("2025-11-10", 18), last_evidence_at=at("2025-11-13")
    )

    _change(
        store,
        "us-port-fees",
        "pending",
        "delayed",
        at("2026-01-05"),
        "manual",
        "set by an operator: USTR says",
        [],
    )
    _status(store, "us-port-fees", "delayed", at("2026-01-05"))

    _add(store, _ev("cn-rare-earths", "broken", "2026-02-01", "scmp.com", confidence=0.8))


def _generated(store: Store, cid: str, n: int) -> None:
    ids = _add(
        store,
        _ev(cid, "progress", "2026-01-10", "reuters.com"),
        _ev(
            cid,
            "progress",
            "2026-01-11",
            "apnews.com",
            official=n % 4 == 0,
            official_party="US" if n % 4 == 0 else None,
        ),
    )
    _change(
        store, cid, "pending", "in_progress", at("2026-01-11"), "evidence", "two reports of progress", ids
    )
    _status(store, cid, "in_progress", at("2026-01-11"), last_evidence_at=at("2026-01-11"))


def _ops(store: Store) -> None:
    with store.session() as s:
        wire = s.exec(select(SourceRow).where(SourceRow.name == "Local wire")).one()
        wire.last_success_at, wire.next_poll_at, wire.entries_seen = (
            at("2026-03-01"),
            at("2026-03-01", 13),
            42,
        )
        broken = s.exec(select(SourceRow).where(SourceRow.name == "Broken feed")).one()
        broken.consecutive_failures, broken.error_kind = 3, "http_status"
        broken.error_message, broken.failing_since = "HTTP 503 from the server", at("2026-02-28")
        sent = AlertRow(
            key="a1", kind="status_change", commitment_id="us-fentanyl-tariff-cut", subject="fulfilled"
        )
        sent.state = "sent"
        waiting = AlertRow(key="a2", kind="status_change", commitment_id="us-port-fees", subject="delayed")
        waiting.state, waiting.attempts, waiting.last_error = "pending", 2, "connection refused"
        s.add_all([sent, waiting])
        s.flush()
        s.add(
            DeliveryRow(
                alert_id=sent.id or 0, target_hash="h1", target="json://***@127.0.0.1/hook", state="sent"
            )
        )
        s.add(
            DeliveryRow(
                alert_id=waiting.id or 0,
                target_hash="h2",
                target="mailto://***@127.0.0.1",
                state="failed",
                attempts=2,
                last_error="connection refused",
            )
        )
