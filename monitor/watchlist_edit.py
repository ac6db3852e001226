"""`trade-monitor watchlist add|remove|list`: edit watchlist.yaml from the command line.

The file is the user's: it carries their comments, their order and their formatting, so edits go through
ruamel.yaml's round-trip mode and touch only the commitment being added or removed. The result is
validated with the same `load_config` the daemon uses, in a scratch copy of the config folder, before
the real file is replaced by an atomic rename: a running daemon (which watches the folder) never sees a
half-written or invalid watchlist, and a failed edit leaves the file as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.config import Config, load_config
from monitor.errors import ConfigError, ConfigProblem, TradeMonitorError

WATCHLIST = "watchlist.yaml"


class WatchlistEditError(TradeMonitorError):
    """The requested edit cannot be made (unknown id, duplicate id, unreadable file)."""


def _yaml() -> YAML:
    """Round-trip YAML that reproduces the shipped file's layout (``  - id:`` under ``commitments:``)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap the user's long lines
    return yaml


def dump_tree(tree: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(tree, buf)
    return buf.getvalue()


def _list_in(tree: Any, path: Path, key: str) -> CommentedSeq:
    """The top-level list an edit changes (``commitments``, ``sources``), made if the file has none."""
    if not isinstance(tree, CommentedMap):
        raise WatchlistEditError(f"{path}: expected a mapping with a {key!r} list")
    items = tree.get(key)
    if items is None:
        items = CommentedSeq()
        tree[key] = items
    if not isinstance(items, CommentedSeq):
        raise WatchlistEditError(f"{path}: {key!r} is not a list")
    return items


def _flow(values: Sequence[str]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def new_commitment(
    *,
    id: str,
    title: str,
    party: str,
    category: str,
    announced: dt.date,
    description: str = "",
    effective: dt.date | None = None,
    due: dt.date | None = None,
    ends: dt.date | None = None,
    target: tuple[float, str] | None = None,
    aliases: Sequence[str] = (),
    require: Sequence[Sequence[str]] = (),
    exclude: Sequence[str] = (),
    link: str | None = None,
) -> CommentedMap:
    """A commitment in the key order and flow style the shipped watchlist uses."""
    item = CommentedMap()
    item["id"] = id
    item["title"] = title
    item["party"] = party
    item["category"] = category
    if description:
        item["description"] = description
    item["announced"] = announced
    for key, value in (("effective", effective), ("due", due), ("ends", ends)):
        if value is not None:
            item[key] = value
    if target is not None:
        t = CommentedMap([("value", target[0]), ("unit", target[1])])
        t.fa.set_flow_style()
        item["target"] = t
    if link:
        item["link"] = link
    if aliases or require or exclude:
        terms = CommentedMap()
        if aliases:
            terms["aliases"] = _flow(list(aliases))
        if require:
            terms["require"] = CommentedSeq([_flow(list(g)) for g in require])
        if exclude:
            terms["exclude"] = _flow(list(exclude))
        item["terms"] = terms
    return item


def add_commitment(text: str, path: Path, item: CommentedMap) -> str:
    """The watchlist text with ``item`` appended to its commitments, everything else untouched."""
    tree = load_tree_text(text, path)
    items = _list_in(tree, path, "commitments")
    if any(isinstance(c, CommentedMap) and c.get("id") == item["id"] for c in items):
        raise WatchlistEditError(f"{path}: a commitment with id {item['id']!r} already exists")
    items.append(item)
    out = dump_tree(tree)
    if len(items) > 1:
        # The shipped file separates commitments with a blank line; keep doing so for the new one.
        marker = f"  - id: {item['id']}\n"
        head, sep, tail = out.rpartition(marker)
        if sep and not head.endswith("\n\n"):
            out = head + "\n" + sep + tail
    return out


def remove_commitment(text: str, path: Path, commitment_id: str) -> str:
    tree = load_tree_text(text, path)
    items = _list_in(tree, path, "commitments")
    for index, c in enumerate(items):
        if isinstance(c, CommentedMap) and c.get("id") == commitment_id:
            del items[index]
            return dump_tree(tree)
    raise WatchlistEditError(f"{path}: no commitment with id {commitment_id!r}")


def load_tree_text(text: str, path: Path) -> Any:
    try:
        return _yaml().load(text)
    except Exception as exc:
        raise WatchlistEditError(
            f"{path}: not valid YAML, fix it first (trade-monitor check-config): {exc}"
        ) from exc


def validate(config_dir: Path, watchlist_text: str, name: str = WATCHLIST) -> Config:
    """Load the config folder as it would be with ``watchlist_text``; raises ConfigError naming the real file.

    The check runs on a scratch copy of the folder so nothing the daemon watches changes until the edit is
    known to be good.
    """
    with tempfile.TemporaryDirectory(prefix="trade-monitor-check-") as scratch:
        root = Path(scratch)
        for entry in os.listdir(config_dir):
            src = config_dir / entry
            if src.is_file() and src.name != name:
                shutil.copy2(src, root / src.name)
        (root / name).write_text(watchlist_text, encoding="utf-8")
        try:
            config = load_config(root)
        except ConfigError as exc:
            raise ConfigError([_as_edit_problem(p, root, config_dir) for p in exc.problems]) from None
    return config


def _as_edit_problem(problem: ConfigProblem, scratch: Path, config_dir: Path) -> ConfigProblem:
    """A problem in the edited watchlist is in text that was never saved: its line numbers belong to the
    edit, not to the file on disk, so it is named as the edit and located by its key."""
    file = problem.file.replace(str(scratch), str(config_dir))
    if Path(problem.file).name != WATCHLIST:
        return ConfigProblem(file, problem.line, problem.key, problem.message)
    return ConfigProblem(file, None, problem.key, f"in the edit, not saved: {problem.message}")


def write_atomically(path: Path, text: str) -> None:
    """Write next to the target, flush to disk, then rename over it: readers see old or new, never half."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _edit(config_dir: Path, change: Any, name: str = WATCHLIST) -> Config:
    path = config_dir / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WatchlistEditError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    new_text = change(text, path)
    config = validate(config_dir, new_text, name)
    write_atomically(path, new_text)
    return config


# --- command line --------------------------------------------------------------------------------


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from exc


def _terms(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


def register(sub: Any) -> None:
    """Add ``list``, ``add`` and ``remove`` under ``trade-monitor watchlist``."""

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
        # Also accepted after the action (``watchlist add --config-dir X``), which is where users put it.
        p.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, help="config directory")
        return p

    action("list", "list the commitments in watchlist.yaml")
    p = action("add", "add a commitment to watchlist.yaml (comments and order are kept; validated first)")
    p.add_argument("--id", required=True, help="stable id, e.g. cn-beef-imports (lowercase, digits, - . _)")
    p.add_argument("--title", required=True)
    p.add_argument("--party", required=True, help="who promised, e.g. US or China")
    p.add_argument("--category", required=True, help="e.g. tariff, export_control, purchase, visit")
    p.add_argument("--announced", required=True, type=_date, help="date the promise was made (YYYY-MM-DD)")
    p.add_argument("--description", default="")
    p.add_argument("--effective", type=_date)
    p.add_argument("--due", type=_date, help="date by which it must be fulfilled")
    p.add_argument("--ends", type=_date, help="last day of a time-limited measure")
    p.add_argument("--target", type=float, help="numeric target, with --unit")
    p.add_argument("--unit", help="unit of --target, e.g. MMT")
    p.add_argument("--alias", action="append", default=[], help="a name of the subject (repeatable)")
    p.add_argument(
        "--require",
        action="append",
        default=[],
        type=_terms,
        help="comma-separated group of words, one of which must appear (repeatable)",
    )
    p.add_argument("--exclude", action="append", default=[], help="a word that vetoes a match (repeatable)")
    p.add_argument("--link", help="reference link (http/https)")
    p = action("remove", "remove a commitment from watchlist.yaml (a running daemon archives it)")
    p.add_argument("id", help="commitment id")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    config_dir = Path(args.config_dir)
    if args.watchlist_command == "list":
        config = load_config(config_dir)
        for c in config.commitments:
            dates = " ".join(f"{k} {v}" for k, v in (("due", c.due), ("ends", c.ends)) if v) or "-"
            out.write(f"{c.id}\t{c.party}\t{c.category}\t{dates}\t{c.title}\n")
        return 0
    if args.watchlist_command == "add":
        if (args.target is None) != (args.unit is None):
            raise WatchlistEditError("--target and --unit go together")
        item = new_commitment(
            id=args.id, title=args.title, party=args.party, category=args.category, announced=args.announced,
            description=args.description, effective=args.effective, due=args.due, ends=args.ends,
            target=(args.target, args.unit) if args.target is not None else None,
            aliases=args.alias, require=[g for g in args.require if g], exclude=args.exclude, link=args.link,
        )  # fmt: skip
        config = _edit(config_dir, lambda text, path: add_commitment(text, path, item))
        out.write(f"added {args.id} to {config_dir / WATCHLIST} ({len(config.commitments)} commitments)\n")
        return 0
    if args.watchlist_command == "remove":
        config = _edit(config_dir, lambda text, path: remove_commitment(text, path, args.id))
        out.write(
            f"removed {args.id} from {config_dir / WATCHLIST} ({len(config.commitments)} commitments)\n"
        )
        return 0
    raise WatchlistEditError(f"unknown watchlist action {args.watchlist_command!r}")


# --- sources.yaml: `trade-monitor sources add|remove|list` ------------------------------------------

SOURCES = "sources.yaml"


def add_source(text: str, path: Path, item: CommentedMap) -> str:
    """Append a source, keeping every comment and the order of the file; names and URLs stay unique."""
    tree = load_tree_text(text, path) if text.strip() else None
    if tree is None:  # an empty or comments-only file: start the mapping the edit will be saved in
        tree = CommentedMap(version=1)
    items = _list_in(tree, path, "sources")
    for existing in items:
        if isinstance(existing, CommentedMap):
            if existing.get("name") == item["name"]:
                raise WatchlistEditError(f"{path}: a source named {item['name']!r} already exists")
            if existing.get("url") == item["url"]:
                raise WatchlistEditError(
                    f"{path}: {item['url']} is already the source {existing.get('name')!r}"
                )
    items.append(item)
    return dump_tree(tree)


def remove_source(text: str, path: Path, name: str) -> str:
    tree = load_tree_text(text, path)
    items = _list_in(tree, path, "sources")
    for index, existing in enumerate(items):
        if isinstance(existing, CommentedMap) and existing.get("name") == name:
            del items[index]
            return dump_tree(tree)
    raise WatchlistEditError(f"{path}: no source named {name!r}")


def check_feed(url: str) -> tuple[bool, str]:
    """Fetch a URL once, politely, and say whether it is a feed and how many entries it has."""
    import asyncio

    from monitor.errors import NotAFeedError
    from monitor.fetch import Fetcher, FetchState
    from monitor.parse import parse_feed

    async def fetch() -> tuple[bool, str]:
        async with Fetcher(deadline=30.0) as fetcher:
            result = await fetcher.fetch(FetchState(url, None, None, None, 0))
        if not result.ok or result.body is None:
            return False, f"fetch failed: {result.error_kind}: {result.error_message}"
        try:
            feed = parse_feed(result.body, result.headers, result.url)
        except NotAFeedError as exc:
            return False, f"not a feed: {exc}"
        kind = feed.version or "feed"
        return True, f"a feed ({kind}) titled {feed.title or '(untitled)'!r} with {len(feed.entries)} entries"

    return asyncio.run(fetch())


def register_sources(sub: Any) -> None:
    """``list``, ``add`` and ``remove`` under ``trade-monitor sources`` (no action: the health table)."""
    p: argparse.ArgumentParser = sub.add_parser("list", help="list the feeds in sources.yaml")
    p.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, help="config directory")
    p = sub.add_parser("add", help="add a feed to sources.yaml after fetching it once to check it is a feed")
    p.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, help="config directory")
    p.add_argument("--name", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--official", action="store_true", help="a government source: confirms on its own")
    p.add_argument("--party", default=None, help="the government an official source speaks for")
    p.add_argument("--interval", default=None, help="poll interval such as 30m (default: sources.yaml's)")
    p.add_argument("--no-check", action="store_true", help="add it even if the fetch fails or is no feed")
    p = sub.add_parser("remove", help="remove a feed from sources.yaml")
    p.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, help="config directory")
    p.add_argument("name", help="the source's name")


def run_sources(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out if out is not None else sys.stdout
    config_dir = Path(args.config_dir)
    if args.sources_command == "list":
        config = load_config(config_dir)
        for s in config.sources.sources:
            flags = ",".join(f for f, on in (("official", s.official), ("disabled", not s.enabled)) if on)
            out.write(f"{s.name}\t{s.url}\t{flags or '-'}\n")
        for search in config.sources.search:
            out.write(f"{search.name}\t{search.url}\tsearch\n")
        return 0
    if args.sources_command == "add":
        ok, what = check_feed(args.url)
        out.write(f"{args.url}: {what}\n")
        if not ok and not args.no_check:
            raise WatchlistEditError(f"not added: {what} (--no-check adds it anyway)")
        item = CommentedMap(name=args.name, url=args.url)
        if args.interval:
            item["interval"] = args.interval
        if args.official:
            item["official"] = True
        if args.party:
            item["party"] = args.party
        config = _edit(config_dir, lambda text, path: add_source(text, path, item), SOURCES)
        out.write(f"added {args.name} to {config_dir / SOURCES} ({len(config.sources.sources)} sources)\n")
        return 0
    config = _edit(config_dir, lambda text, path: remove_source(text, path, args.name), SOURCES)
    out.write(f"removed {args.name} from {config_dir / SOURCES} ({len(config.sources.sources)} sources)\n")
    return 0
