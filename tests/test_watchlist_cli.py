"""`trade-monitor watchlist add|remove|list` and `trade-monitor set-status`."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlmodel import select

from monitor.cli import main
from monitor.config import load_config
from monitor.pipeline import Monitor
from monitor.store import AlertRow, Store, utcnow
from tests.ops_fixtures import FENTANYL_ITEM, WATCHLIST, rss, write_config

BEEF_ARGS = [
    "--id", "cn-beef-imports", "--title", "China resumes imports of US beef", "--party", "China",
    "--category", "purchase", "--announced", "2025-11-01", "--due", "2026-06-30",
    "--target", "100000", "--unit", "tons", "--alias", "US beef", "--alias", "American beef",
    "--require", "buy, bought, imports", "--exclude", "pork",
]  # fmt: skip


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return write_config(tmp_path / "config", "http://127.0.0.1:9/feed.xml")


def test_list(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watchlist", "--config-dir", str(config_dir), "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["us-fentanyl-tariff-cut", "us-port-fees-suspension"]
    assert "due 2030-12-31" in lines[0]


def test_add_keeps_comments_and_order_and_validates(config_dir: Path) -> None:
    path = config_dir / "watchlist.yaml"
    assert main(["watchlist", "add", "--config-dir", str(config_dir), *BEEF_ARGS]) == 0
    text = path.read_text()
    assert text.startswith(WATCHLIST)  # every byte of the user's file, comments included, is unchanged
    added = text[len(WATCHLIST) :]
    assert added.startswith("\n  - id: cn-beef-imports\n")
    assert "aliases: [US beef, American beef]" in added and "- [buy, bought, imports]" in added
    config = load_config(config_dir)
    beef = config.commitment("cn-beef-imports")
    assert [c.id for c in config.commitments][-1] == "cn-beef-imports"
    assert beef.target is not None and beef.target.value == 100000 and beef.terms.exclude == ["pork"]
    assert sorted(p.name for p in config_dir.iterdir()) == ["notify.yaml", "sources.yaml", "watchlist.yaml"]


def test_invalid_add_leaves_the_file_alone(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config_dir / "watchlist.yaml"
    before = path.read_text()
    code = main(["watchlist", "add", "--config-dir", str(config_dir), *BEEF_ARGS, "--link", "not a url"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:" in err and "link" in err  # names the real file, not the scratch copy
    assert path.read_text() == before
    # A duplicate id is refused too.
    assert (
        main(
            [
                "watchlist",
                "add",
                "--config-dir",
                str(config_dir),
                *BEEF_ARGS[:2],
                "--title",
                "x",
                "--party",
                "US",
                "--category",
                "tariff",
                "--announced",
                "2025-11-01",
            ]
        )
        == 0
    )
    assert main(["watchlist", "add", "--config-dir", str(config_dir), *BEEF_ARGS]) == 1
    assert "already exists" in capsys.readouterr().err


def test_remove_keeps_the_rest(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config_dir / "watchlist.yaml"
    assert main(["watchlist", "remove", "us-port-fees-suspension", "--config-dir", str(config_dir)]) == 0
    text = path.read_text()
    assert "us-port-fees-suspension" not in text
    assert "# Test watchlist: this comment must survive CLI edits." in text
    assert "# The fentanyl tariff cut (keep this comment)." in text
    assert [c.id for c in load_config(config_dir).commitments] == ["us-fentanyl-tariff-cut"]
    assert main(["watchlist", "remove", "nope", "--config-dir", str(config_dir)]) == 1
    assert "no commitment with id 'nope'" in capsys.readouterr().err


def test_set_status_records_alerts_and_evidence_can_move_it_again(
    config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    cid = "us-fentanyl-tariff-cut"
    args = [
        "set-status",
        cid,
        "broken",
        "--note",
        "tariff reimposed per Federal Register notice",
        "--config-dir",
        str(config_dir),
        "--db",
        db,
    ]
    assert main(args) == 0
    assert "pending -> broken (manual); 1 alerts queued" in capsys.readouterr().out
    store = Store(db)
    changes, _ = store.history(cid)
    assert [(c.from_status, c.to_status, c.kind) for c in changes] == [("pending", "broken", "manual")]
    assert "tariff reimposed per Federal Register notice" in changes[0].reason
    with store.session() as s:
        alerts = s.exec(select(AlertRow).where(AlertRow.change_id == changes[0].id)).all()
    assert len(alerts) == 1 and alerts[0].state == "pending" and alerts[0].kind == "status_change"

    assert main(args) == 0  # the same decision twice changes nothing
    assert "already broken" in capsys.readouterr().out

    monitor = Monitor(load_config(config_dir), store)
    source = store.ensure_source("Local wire", "http://127.0.0.1:9/feed.xml", official=True)
    # an older report arriving late does not overturn the decision; one published after it can
    monitor.ingest_document(source, rss(FENTANYL_ITEM), None, utcnow())
    row = store.commitment(cid)
    assert row is not None and row.status == "broken"
    later = format_datetime(utcnow() + dt.timedelta(minutes=5), usegmt=True)
    monitor.ingest_document(
        source, rss((*FENTANYL_ITEM[:2], FENTANYL_ITEM[2] + "-update", later)), None, utcnow()
    )
    row = store.commitment(cid)
    assert row is not None and row.status == "fulfilled"
    changes, _ = store.history(cid)
    in_order_recorded = sorted(changes, key=lambda c: c.id or 0)
    assert [(c.to_status, c.kind) for c in in_order_recorded] == [
        ("broken", "manual"),
        ("fulfilled", "evidence"),
    ]
    store.close()


def test_set_status_rejects_unknown_ids_and_statuses(
    config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert main(["set-status", "nope", "broken", "--config-dir", str(config_dir), "--db", db]) == 2
    with pytest.raises(SystemExit):
        main(["set-status", "us-fentanyl-tariff-cut", "kaput", "--config-dir", str(config_dir), "--db", db])
