"""A delivery worker for the crash test: produces status changes and delivers the outbox until done.

Run as ``python tests/crash_worker.py CONFIG_DIR DB_URL TOTAL_CHANGES``. Each loop records one operator
status change through the real tracker and alerter (the change and its outbox alerts in one
transaction, exactly as the pipeline does), then runs the real `Deliverer`. It resumes where the database
says it stopped, so the test can SIGKILL it anywhere and start it again. Prints ``ready`` once set up and
``done`` when every change is made and the outbox is empty.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlmodel import col, func, select

from monitor.config import load_config
from monitor.delivery import Deliverer
from monitor.pipeline import Monitor
from monitor.store import AlertRow, StatusChangeRow, Store, utcnow

CYCLE = ["in_progress", "fulfilled", "broken", "delayed", "expired", "pending"]


async def main(config_dir: Path, db_url: str, total: int) -> None:
    config = load_config(config_dir)
    store = Store(db_url)
    monitor = Monitor(config, store)
    deliverer = Deliverer(store, config, concurrency=4)
    deliverer.recover()
    ids = [c.id for c in config.commitments]
    print("ready", flush=True)
    while True:
        with store.session() as s:
            made = s.exec(select(func.count()).select_from(StatusChangeRow)).one()
        if made < total:
            with store.session() as s:
                cid = ids[made % len(ids)]
                status = CYCLE[(made // len(ids)) % len(CYCLE)]
                now = utcnow()
                event = monitor.tracker.set_status(s, cid, status, f"crash test step {made}", now)
                if event is not None:
                    monitor.alerter.enqueue(s, [event], now)
        await deliverer.deliver_due(utcnow())
        with store.session() as s:
            open_ = s.exec(
                select(func.count()).select_from(AlertRow).where(col(AlertRow.state).in_(["pending", "held"]))
            ).one()
        if made >= total and open_ == 0:
            print("done", flush=True)
            return


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
