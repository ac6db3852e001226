"""Loading and validating the user's config directory.

Users edit these files by hand, so every problem must be reported with the file, the line and the key
that is wrong. YAML is read as YAML 1.2 with ruamel.yaml (the country code ``NO`` stays a string) in
round-trip mode, which keeps the line of every key; pydantic then validates the plain data and each of
its errors is mapped back to a line.

Files:
- ``watchlist.yaml``: the commitments being tracked, plus evidence policy and per-category term defaults.
- ``sources.yaml``: the feeds to poll.
- ``notify.yaml``: Apprise's own YAML config format (``version``, ``urls`` with ``tag``), optional.
- ``alerts.yaml``: routing, digests, quiet hours and rate limits for alerts, optional.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_origin

import yaml  # type: ignore[import-untyped]
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from monitor.errors import ConfigError, ConfigProblem, TradeMonitorError

STATUSES = ("pending", "in_progress", "fulfilled", "delayed", "broken", "expired")
SIGNALS = ("mention", "progress", "fulfilled", "delayed", "broken", "extended")
Status = Literal["pending", "in_progress", "fulfilled", "delayed", "broken", "expired"]
Signal = Literal["mention", "progress", "fulfilled", "delayed", "broken", "extended"]

M = TypeVar("M", bound=BaseModel)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> float:
    """Seconds from a number or a string such as ``90``, ``15m``, ``2h`` or ``1d``."""
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of seconds or a string like '15m'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration (use seconds or a string like '15m', '2h', '1d')")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def _check_http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/:?#]+(:\d+)?([/?#][^\s]*)?$", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _parse_gap(value: object) -> float:
    """A duration that may be zero (no gap between requests to a host)."""
    if value == 0 and not isinstance(value, bool):
        return 0.0
    return parse_duration(value)


Gap = Annotated[float, BeforeValidator(_parse_gap)]
HttpUrl = Annotated[str, AfterValidator(_check_http_url)]
CommitmentId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=120)]


class _Strict(BaseModel):
    """Unknown keys are errors: a misspelt key silently ignored is a rule that silently never fires."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """A numeric goal such as 12 million metric tons of soybeans."""

    value: float = Field(gt=0)
    unit: str = Field(min_length=1)


class MatchTerms(_Strict):
    """Words that tie a report to a commitment.

    ``aliases`` name the commitment's subject (any one suffices to make it a candidate); every group in
    ``require`` must have one term present in the sentence (or the title); any ``exclude`` term vetoes.
    """

    aliases: list[str] = Field(default_factory=list)
    require: list[list[str]] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)


# A word or name in the config: blank entries would match everywhere or nowhere, so they are errors.
Word = Annotated[str, Field(min_length=1, pattern=r"\S")]


class Party(_Strict):
    """One side of the watchlist's commitments, and the words reports use for it.

    The party's name in a terms group ("China") brings every alias along, and a leader's or a body's
    name brings theirs ("Xi" also finds "Xi Jinping"), so a watchlist names each side once. ``actors``
    are the names that, before a verb, make the party the one acting ("Beijing suspends ..."), so
    China suspending its own fees is no evidence about the US fees; ``places`` are where a visit to the
    party goes; ``official`` are fragments of a source's name or link that mark it as the party's
    government when the feed config does not say.
    """

    aliases: list[Word] = Field(default_factory=list)
    leaders: dict[Word, list[Word]] = Field(default_factory=dict)
    bodies: dict[Word, list[Word]] = Field(default_factory=dict)
    actors: list[Word] | None = None  # None: the name, aliases, leaders and bodies
    places: list[Word] | None = None  # None: the name and aliases
    combining: list[Word] = Field(default_factory=list)  # forms used only in compounds ("Sino-US")
    official: list[Word] = Field(default_factory=list)

    def names(self, name: str) -> list[str]:
        """The party's name and aliases: what a report may call it."""
        return [name, *self.aliases]


def party_named(parties: Mapping[str, Party], name: str) -> str | None:
    """The configured party that ``name`` (a commitment's ``party``) stands for, by name or alias in any
    case; None when no party is called so."""
    key = name.strip().lower()
    for party, p in parties.items():
        if key in (n.lower() for n in p.names(party)):
            return party
    return None


class Commitment(_Strict):
    """One promise on the watchlist, as announced."""

    id: CommitmentId
    title: str = Field(min_length=1)
    party: str = Field(min_length=1)
    category: str = Field(min_length=1)
    description: str = ""
    announced: dt.date
    effective: dt.date | None = None
    due: dt.date | None = None
    ends: dt.date | None = None
    target: Target | None = None
    terms: MatchTerms = Field(default_factory=MatchTerms)
    link: HttpUrl | None = None
    tags: list[str] = Field(default_factory=list)
    notes: str = ""
    # Who announced the promise; a commitment stated by one side only (e.g. purchase figures the US
    # announced) is shown as such, since the other side never confirmed it.
    stated_by: list[str] = Field(default_factory=list)
    # What `backfill` asks the search feeds for; built from ``terms`` when not given.
    search_query: str | None = Field(default=None, min_length=1)

    def query(self) -> str:
        """The search words for this commitment: ``search_query``, or its first aliases (any one) and the
        first word of its first required group, which is how a person would search for it."""
        if self.search_query:
            return self.search_query
        aliases = [f'"{a}"' if " " in a else a for a in self.terms.aliases[:3]] or [f'"{self.title}"']
        words = aliases[0] if len(aliases) == 1 else "(" + " OR ".join(aliases) + ")"
        if self.terms.require and self.terms.require[0]:
            first = self.terms.require[0][0]
            words += " " + (f'"{first}"' if " " in first else first)
        return words

    @property
    def time_limited(self) -> bool:
        """A measure that lapses on ``ends`` unless renewed (a one-year suspension)."""
        return self.ends is not None


class Policy(_Strict):
    """How much evidence moves a status, and which unconfirmed signals users hear about."""

    corroboration_window_days: float = Field(default=14, gt=0)
    min_independent_publishers: int = Field(default=2, ge=1)
    min_confidence: float = Field(default=0.5, ge=0, le=1)
    alert_unconfirmed: bool = False


class Watchlist(_Strict):
    version: Literal[1] = 1
    policy: Policy = Field(default_factory=Policy)
    category_defaults: dict[str, MatchTerms] = Field(default_factory=dict)
    # The two (or more) sides; empty: the shipped US and China vocabulary (monitor.evidence.parties).
    parties: dict[Word, Party] = Field(default_factory=dict)
    # Countries that are neither party; None: a world list without the configured parties.
    third_countries: list[Word] | None = None
    commitments: list[Commitment]


class SourceDefaults(_Strict):
    interval: Duration = 900.0
    min_interval: Duration = 300.0
    max_interval: Duration = 6 * 3600.0


class HostLimits(_Strict):
    """Politeness towards one host, shared by every source on it: requests at once, seconds between starts."""

    concurrency: int = Field(default=2, ge=1, le=1000)
    min_interval: Gap = 1.0


DEFAULT_HOST = "*"  # the ``hosts:`` key whose limits apply to every host not named


class Source(_Strict):
    """A feed to poll. ``official`` sources (government sites) count as confirmation on their own."""

    name: str = Field(min_length=1)
    url: HttpUrl
    interval: Duration | None = None
    min_interval: Duration | None = None
    max_interval: Duration | None = None
    official: bool = False
    party: str | None = None
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    unconfirmed_url: bool = False


class OfficialDomain(_Strict):
    """A government domain and the party it speaks for, so the two sides' statements can be compared."""

    domain: str = Field(min_length=3)
    party: str = Field(min_length=1)


def _check_search_template(value: str) -> str:
    missing = [p for p in ("{query}", "{after}", "{before}") if p not in value]
    if missing:
        raise ValueError(f"a search URL needs the placeholders {', '.join(missing)}")
    return value


class SearchSource(_Strict):
    """A news search that answers "reports about {query} between {after} and {before}" as a feed;
    `backfill` uses it to give each commitment its past. A stable contract (README)."""

    name: str = Field(min_length=1)
    url: Annotated[HttpUrl, AfterValidator(_check_search_template)]

    def url_for(self, query: str, after: dt.date, before: dt.date) -> str:
        from urllib.parse import quote_plus

        return (
            self.url.replace("{query}", quote_plus(query))
            .replace("{after}", after.isoformat())
            .replace("{before}", before.isoformat())
        )


class BackfillSettings(_Strict):
    """How `backfill` walks the past: window length, the pause between requests to one search host,
    and whether the first `run` on an empty database starts one in the background."""

    on_first_run: bool = True
    window: Duration = 14 * 86400.0
    min_host_interval: Duration = 2.0


class Sources(_Strict):
    version: Literal[1] = 1
    defaults: SourceDefaults = Field(default_factory=SourceDefaults)
    official_domains: list[str | OfficialDomain] = Field(default_factory=list)
    # Per-host politeness (a stable contract): ``hosts: {"127.0.0.1": {concurrency: 16, min_interval: 0}}``;
    # the key "*" replaces the defaults for every host not named.
    hosts: dict[str, HostLimits] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)
    search: list[SearchSource] = Field(default_factory=list)
    backfill: BackfillSettings = Field(default_factory=BackfillSettings)

    def host_defaults(self) -> HostLimits:
        return self.hosts.get(DEFAULT_HOST, HostLimits())

    def host_overrides(self) -> dict[str, tuple[int, float]]:
        """Named hosts' (concurrency, min_interval), host names lower-cased, for the fetcher."""
        return {
            host.lower(): (limits.concurrency, limits.min_interval)
            for host, limits in self.hosts.items()
            if host != DEFAULT_HOST
        }

    def official_parties(self) -> dict[str, str | None]:
        """Listed government domains and the party each speaks for (None when not said)."""
        out: dict[str, str | None] = {}
        for item in self.official_domains:
            if isinstance(item, str):
                out[item.lower().removeprefix("www.")] = None
            else:
                out[item.domain.lower().removeprefix("www.")] = item.party
        return out

    def interval_for(self, source: Source) -> float:
        return source.interval or self.defaults.interval


class RouteMatch(_Strict):
    """Which alerts a route takes; an empty list means any."""

    commitments: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    parties: list[str] = Field(default_factory=list)
    severities: list[Literal["info", "notice", "warning", "critical"]] = Field(default_factory=list)
    kinds: list[str] = Field(default_factory=list)


class QuietHours(_Strict):
    """Alerts due inside ``start``-``end`` (alerts.yaml time zone; may wrap midnight) are held, not dropped,
    and delivered when the quiet period ends; ``except_severities`` (e.g. critical) still go through."""

    start: dt.time
    end: dt.time
    except_severities: list[Literal["info", "notice", "warning", "critical"]] = Field(default_factory=list)


class RateLimit(_Strict):
    max: int = Field(ge=1)
    per: Duration


class Route(_Strict):
    """Sends matching alerts to the Apprise targets carrying ``tags``."""

    name: str = Field(min_length=1)
    match: RouteMatch = Field(default_factory=RouteMatch)
    tags: list[str] = Field(default_factory=list)
    mode: Literal["immediate", "digest", "both"] = "immediate"
    quiet_hours: QuietHours | None = None
    rate_limit: RateLimit | None = None


def _check_timezone(value: str) -> str:
    """An IANA zone name (``Europe/Berlin``): digests and quiet hours follow the user's clock and DST."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known time zone (use an IANA name like 'Asia/Tokyo')") from exc
    return value


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _check_weekly(value: str | None) -> str | None:
    """``mon 08:00``: a weekday (three letters or full name) and a 24-hour time."""
    if value is None:
        return None
    m = re.match(r"^\s*([a-z]+)\s+(\d{1,2}):(\d{2})\s*$", value.lower())
    if not m or m.group(1)[:3] not in _WEEKDAYS or not (0 <= int(m.group(2)) < 24 and int(m.group(3)) < 60):
        raise ValueError(f"{value!r} is not a weekly time (use a weekday and a time, e.g. 'mon 08:00')")
    return f"{m.group(1)[:3]} {int(m.group(2)):02d}:{m.group(3)}"


class Digests(_Strict):
    """Digest schedules in the alerts.yaml time zone; routes with mode digest/both receive them."""

    daily: dt.time | None = None
    weekly: Annotated[str | None, AfterValidator(_check_weekly)] = None
    nothing_changed: bool = False


class AlertsSettings(_Strict):
    """alerts.yaml: how alerts are routed and paced. Every key is optional."""

    version: Literal[1] = 1
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    routes: list[Route] = Field(default_factory=list)
    default_tags: list[str] = Field(default_factory=list)
    ops_tag: str = "ops"
    digests: Digests = Field(default_factory=Digests)
    mute: dict[str, dt.date] = Field(default_factory=dict)
    # Snoozed commitments' alerts are held until the day after the date, then delivered (mute drops them).
    snooze: dict[str, dt.date] = Field(default_factory=dict)
    reminder_days: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [7])
    unconfirmed: bool = False
    retry_max_age: Duration = 86400.0
    retry_initial: Duration = 10.0
    # A send interrupted by a crash has an unknown outcome: resend it (never lost, rarely twice, flagged
    # with the same Idempotency-Key) or give it up (never twice, rarely lost; an ops alert says so).
    on_unknown_outcome: Literal["resend", "give_up"] = "resend"


@dataclass(frozen=True)
class NotifyTarget:
    """One Apprise URL from notify.yaml; ``url`` holds secrets and must never be logged or stored."""

    url: str
    tags: frozenset[str]
    redacted: str
    line: int | None


@dataclass(frozen=True)
class Config:
    """Everything loaded from one config directory."""

    directory: Path
    watchlist: Watchlist
    sources: Sources
    notify_targets: tuple[NotifyTarget, ...] = ()
    notify_text: str = ""
    alerts: AlertsSettings = field(default_factory=lambda: AlertsSettings())

    @property
    def commitments(self) -> list[Commitment]:
        return self.watchlist.commitments

    @functools.cached_property
    def _commitments_by_id(self) -> dict[str, Commitment]:
        # Looked up once per evidence row and route check: a scan made 10,000 commitments quadratic.
        return {c.id: c for c in self.watchlist.commitments}

    def commitment(self, commitment_id: str) -> Commitment:
        return self._commitments_by_id[commitment_id]

    def is_official(self, url_or_host: str, source_official: bool = False) -> bool:
        """Official sources outrank media: a configured official feed or a listed government domain."""
        return source_official or self._official_domain(url_or_host) is not None

    def official_party(self, url_or_host: str, source_name: str = "") -> str | None:
        """Which government an official report speaks for: its feed's ``party``, else its domain's,
        spelt as in the watchlist ("us" and "US" are one side)."""
        party: str | None = None
        for source in self.sources.sources:
            if source.name == source_name and source.official and source.party:
                party = source.party
        if party is None:
            domain = self._official_domain(url_or_host)
            party = self.sources.official_parties().get(domain) if domain else None
        if party is None:
            return None
        spelling = {c.party.lower(): c.party for c in self.watchlist.commitments}
        return spelling.get(party.lower(), party)

    def _official_domain(self, url_or_host: str) -> str | None:
        host = _host_of(url_or_host)
        for domain in self.sources.official_parties():
            if host == domain or host.endswith("." + domain):
                return domain
        return None


def _host_of(url_or_host: str) -> str:
    m = re.match(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", url_or_host, re.I)
    return (m.group(1) if m else url_or_host).lower().removeprefix("www.")


# --- YAML with line numbers ---------------------------------------------------------------------


# libyaml's C parser when PyYAML was built with it, else PyYAML's (slower, still no line bookkeeping)
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Core12Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """libyaml's parser with YAML 1.2 core-schema scalars, as the round-trip loader reads them.

    The round-trip loader keeps line numbers and comments and costs about 1 ms a source: 10 s and 50 MiB
    of transient objects for a sources.yaml of 10,000 feeds, at every start of every command. A valid
    file is read with this instead; any problem is re-read by the round-trip loader, which reports it
    with its line. 1.2 differs from PyYAML's 1.1: only true/false are booleans (not yes/no/on/off), 012
    is twelve, and 1:30 is a string.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        if len(keys) != len({repr(k) for k in keys}):
            raise yaml.constructor.ConstructorError(None, None, "duplicate key", node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:
        text = str(self.construct_scalar(node))
        sign, digits = (-1, text[1:]) if text[:1] == "-" else (1, text.lstrip("+"))
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        return sign * int(digits, 10)


def _core12_resolvers() -> None:
    base = yaml.SafeLoader.yaml_implicit_resolvers
    keep = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge")
    resolvers: dict[Any, list[Any]] = {
        first: [(tag, regexp) for tag, regexp in pairs if tag in keep] for first, pairs in base.items()
    }
    _Core12Loader.yaml_implicit_resolvers = resolvers
    core = (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
        (
            "float",
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
            r"|\.(?:nan|NaN|NAN))$",
            "-+.0123456789",
        ),
    )
    for name, pattern, first in core:
        _Core12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{name}", re.compile(pattern), list(first))
    _Core12Loader.add_constructor("tag:yaml.org,2002:int", _Core12Loader.construct_yaml_int)


_core12_resolvers()


def read_yaml_fast(path: Path) -> Any:
    """A file's plain data through libyaml, or None when only the round-trip loader can tell why not.

    Callers validate what this returns and, on any problem, read the file again with `read_yaml`, whose
    tree gives every problem its line."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Core12Loader)
    except (OSError, UnicodeError, ValueError, yaml.YAMLError):
        return None


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    return yaml


def _plain(node: Any) -> Any:
    """Round-trip nodes to plain dicts and lists, which pydantic validates without surprises."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def locate(root: Any, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest node of ``loc`` that exists in the round-trip tree."""
    node = root
    line: int | None = getattr(getattr(root, "lc", None), "line", None)
    line = line + 1 if line is not None else None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _loc_key(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; a syntax error becomes a ConfigError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigProblem(str(path), None, "", f"cannot read: {exc.strerror or exc}")]
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem(str(path), None, "", f"not UTF-8 text: {exc}")]) from exc
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(x for x in (exc.context, exc.problem) if x) or "YAML syntax error"
        raise ConfigError([ConfigProblem(str(path), line, "", f"YAML syntax error: {what}")]) from exc
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. for some duplicate keys)
        line = _impossible_date_line(text) if isinstance(exc, ValueError) else None
        raise ConfigError([ConfigProblem(str(path), line, "", f"YAML error: {exc}")]) from exc


_ISO_DATE = re.compile(r"(?<![\w-])(\d{4})-(\d{2})-(\d{2})(?![\w-])")


def _impossible_date_line(text: str) -> int | None:
    """ruamel builds dates while parsing and reports ``2025-02-30`` with no position; find its line."""
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _ISO_DATE.finditer(line.split("#", 1)[0]):
            try:
                dt.date(*map(int, match.groups()))
            except ValueError:
                return number
    return None


def _validate(model: type[M], path: Path, tree: Any) -> M:
    try:
        return model.model_validate(_plain(tree))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}" + _suggest(str(loc[-1]), model, loc[:-1])
            elif err["type"] == "missing":
                message = f"missing required key {loc[-1]!r}"
            problems.append(ConfigProblem(str(path), locate(tree, loc), _loc_key(loc), message))
        raise ConfigError(problems) from exc


def _suggest(key: str, model: type[BaseModel], parent: Sequence[int | str]) -> str:
    """A 'did you mean' hint from the keys the model at ``parent`` accepts."""
    import difflib

    current: Any = model
    mapping_key = False  # the next part is a key of a mapping (a party's or a category's name)
    for part in parent:
        if isinstance(part, int) or mapping_key:
            mapping_key = False
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return ""
        annotation = fields[part].annotation
        mapping_key = get_origin(annotation) is dict
        current = _model_in(annotation)
        if current is None:
            return ""
    names = list(getattr(current, "model_fields", {}))
    close = difflib.get_close_matches(key, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _duplicates(path: Path, tree: Any, items: Iterable[Any], section: str, attr: str) -> list[ConfigProblem]:
    seen: dict[str, int] = {}
    problems = []
    for index, item in enumerate(items):
        value = getattr(item, attr)
        if value in seen:
            problems.append(
                ConfigProblem(
                    str(path),
                    locate(tree, (section, index, attr)),
                    f"{section}[{index}].{attr}",
                    f"duplicate {attr} {value!r} (first used at item {seen[value]})",
                )
            )
        else:
            seen[value] = index
    return problems


def _check_parties(path: Path, tree: Any, watchlist: Watchlist) -> list[ConfigProblem]:
    """With a ``parties:`` section, every commitment's party must be one of them, and no name may stand
    for two parties: either would silently read the wrong side as the one acting."""
    if not watchlist.parties:
        return []
    problems = []
    owner: dict[str, str] = {}
    for party, p in watchlist.parties.items():
        for item, name in enumerate(p.names(party)):
            first = owner.setdefault(name.lower(), party)
            if first != party:
                loc: tuple[int | str, ...] = (
                    ("parties", party, "aliases", item - 1) if item else ("parties", party)
                )
                message = f"{name!r} already names party {first!r}"
                problems.append(ConfigProblem(str(path), locate(tree, loc), _loc_key(loc), message))
    known = ", ".join(watchlist.parties)
    for index, c in enumerate(watchlist.commitments):
        if party_named(watchlist.parties, c.party) is None:
            loc = ("commitments", index, "party")
            message = f"party {c.party!r} is not under 'parties:' ({known})"
            problems.append(ConfigProblem(str(path), locate(tree, loc), _loc_key(loc), message))
    return problems


def _check_dates(path: Path, tree: Any, watchlist: Watchlist) -> list[ConfigProblem]:
    problems = []
    for index, c in enumerate(watchlist.commitments):
        for name in ("effective", "due", "ends"):
            value = getattr(c, name)
            if value is not None and value < c.announced:
                problems.append(
                    ConfigProblem(
                        str(path),
                        locate(tree, ("commitments", index, name)),
                        f"commitments[{index}].{name}",
                        f"{name} {value} is before announced {c.announced}",
                    )
                )
    return problems


# An empty or missing notify.yaml is far more often an accident (a truncated edit, a bad mount) than a
# wish to print alerts to a terminal; taking it as "console only" silently lost alerts, so only an
# explicit empty list means that.
_NOTIFY_CONSOLE = "write 'urls: []' to deliver alerts to the console only"
_NOTIFY_MISSING = f"notify.yaml is missing; list Apprise URLs under 'urls:', or {_NOTIFY_CONSOLE}"


def _check_alert_names(
    path: Path, tree: Any, alerts: AlertsSettings, watchlist: Watchlist
) -> list[ConfigProblem]:
    """Routes, mutes and snoozes that name a commitment, category or party the watchlist does not have
    would silently match nothing: a typo there means alerts go where the user did not intend."""
    known = {
        "commitments": {c.id for c in watchlist.commitments},
        "categories": {c.category for c in watchlist.commitments},
        "parties": {c.party for c in watchlist.commitments},
    }
    singular = {"commitments": "commitment", "categories": "category", "parties": "party"}
    problems = []
    for index, route in enumerate(alerts.routes):
        for field_name, names in known.items():
            for item, name in enumerate(getattr(route.match, field_name)):
                if name not in names:
                    loc = ("routes", index, "match", field_name, item)
                    problems.append(_unknown_name(path, tree, loc, singular[field_name], name, names))
    for section in ("mute", "snooze"):
        for name in getattr(alerts, section):
            if name not in known["commitments"]:
                problems.append(
                    _unknown_name(path, tree, (section, name), "commitment", name, known["commitments"])
                )
    return problems


def _unknown_name(
    path: Path, tree: Any, loc: tuple[int | str, ...], what: str, name: str, names: set[str]
) -> ConfigProblem:
    import difflib

    close = difflib.get_close_matches(name, sorted(names), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    message = f"no {what} {name!r} in watchlist.yaml{hint}"
    return ConfigProblem(str(path), locate(tree, loc), _loc_key(loc), message)


def unused_notify_tags(config: Config) -> list[tuple[NotifyTarget, str]]:
    """Target tags that no route, default or ops setting ever puts on an alert: such a target may never
    hear anything, which is worth a warning (it may be meant for `notify test --tag`)."""
    used = {config.alerts.ops_tag, "all", *config.alerts.default_tags}
    for route in config.alerts.routes:
        used.update(route.tags)
    return [(t, tag) for t in config.notify_targets for tag in sorted(t.tags) if tag not in used]


def load_notify(path: Path) -> tuple[tuple[NotifyTarget, ...], str]:
    """Read notify.yaml (Apprise's YAML format) and check that Apprise understands every URL."""
    if not path.exists():
        raise ConfigError([ConfigProblem(str(path), None, "", _NOTIFY_MISSING)])
    tree = read_yaml(path)
    text = path.read_text(encoding="utf-8")
    if tree is None:
        raise ConfigError([ConfigProblem(str(path), 1, "", f"the file is empty; {_NOTIFY_CONSOLE}")])
    problems: list[ConfigProblem] = []
    if not isinstance(tree, CommentedMap):
        raise ConfigError([ConfigProblem(str(path), 1, "", "expected a mapping with 'version' and 'urls'")])
    if "urls" not in tree and "include" not in tree:
        raise ConfigError([ConfigProblem(str(path), 1, "urls", f"no 'urls' list; {_NOTIFY_CONSOLE}")])
    allowed = {"version", "urls", "tag", "include", "asset"}
    for key in tree:
        if key not in allowed:
            problems.append(ConfigProblem(str(path), locate(tree, (key,)), str(key), f"unknown key {key!r}"))
    global_tags = _split_tags(tree.get("tag"))
    urls = tree.get("urls")
    if urls is None and "urls" in tree:
        problems.append(
            ConfigProblem(str(path), locate(tree, ("urls",)), "urls", f"'urls' is empty; {_NOTIFY_CONSOLE}")
        )
    if urls is None:
        urls = CommentedSeq()
    if not isinstance(urls, CommentedSeq):
        problems.append(ConfigProblem(str(path), locate(tree, ("urls",)), "urls", "expected a list of URLs"))
        urls = CommentedSeq()
    targets = []
    for index, item in enumerate(urls):
        line = locate(tree, ("urls", index))
        url, tags = _notify_item(item)
        if url is None:
            problems.append(ConfigProblem(str(path), line, f"urls[{index}]", "expected a URL string"))
            continue
        redacted = redact_url(url)
        instance = _apprise_instance(url)
        if instance is None:
            problems.append(
                ConfigProblem(str(path), line, f"urls[{index}]", f"Apprise does not understand {redacted}")
            )
            continue
        targets.append(NotifyTarget(url, frozenset(tags | global_tags), redacted, line))
    if problems:
        raise ConfigError(problems)
    return tuple(targets), text


def _split_tags(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {t.strip() for t in re.split(r"[,\s]+", value) if t.strip()}
    if isinstance(value, list):
        out: set[str] = set()
        for v in value:
            out |= _split_tags(v)
        return out
    return {str(value)}


def _notify_item(item: Any) -> tuple[str | None, set[str]]:
    if isinstance(item, str):
        return item.strip(), set()
    if isinstance(item, Mapping) and len(item) == 1:
        url, options = next(iter(item.items()))
        tags: set[str] = set()
        for opt in options if isinstance(options, list) else [options]:
            if isinstance(opt, Mapping):
                tags |= _split_tags(opt.get("tag"))
        return str(url).strip(), tags
    return None, set()


def _apprise_instance(url: str) -> object | None:
    """Ask Apprise whether it understands a URL. Apprise logs the URL it loads at DEBUG, with only the
    password hidden (tokens in paths stay), so its logger is kept at WARNING while we ask."""
    import logging

    import apprise

    apprise_log = logging.getLogger("apprise")
    level = apprise_log.level
    apprise_log.setLevel(max(level, logging.WARNING))
    try:
        return apprise.Apprise.instantiate(url)
    finally:
        apprise_log.setLevel(level)


_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>.*)$", re.I | re.S)
_PLAIN_HOST = re.compile(
    r"^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\]|([a-z0-9-]+\.)+[a-z]{2,})(:\d+)?$", re.I
)


def redact_url(url: str) -> str:
    """Scheme and host of a URL, nothing else: Apprise URLs keep tokens in user info, paths, queries and,
    for many services (Telegram, Discord), in the host part itself, which is shown only if it looks like
    a real host name."""
    m = _URL.match(url.strip())
    if not m:
        return "<hidden>"
    rest = m.group("rest")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo, _, host = authority.rpartition("@")
    shown = host if _PLAIN_HOST.match(host) else "***"
    more = len(rest) > len(authority)
    return f"{m.group('scheme')}://{'***@' if userinfo else ''}{shown}{'/***' if more else ''}"


L = TypeVar("L")


def _fast_then_exact(
    path: Path, load: Callable[[Path, Any], tuple[L | None, list[ConfigProblem]]]
) -> tuple[L | None, list[ConfigProblem]]:
    """Load a file through libyaml; if anything is wrong with it, again through the round-trip loader,
    so every problem is reported (with its line) exactly as before."""
    if path.exists():
        tree = read_yaml_fast(path)
        if tree is not None:
            loaded, problems = load(path, tree)
            if not problems:
                return loaded, problems
    try:
        return load(path, read_yaml(path) if path.exists() else None)
    except ConfigError as exc:
        return None, exc.problems


def _load_watchlist(path: Path, tree: Any) -> tuple[Watchlist | None, list[ConfigProblem]]:
    try:
        if tree is None:
            if not path.exists():
                read_yaml(path)  # raises the "cannot read" problem
            raise ConfigError(
                [ConfigProblem(str(path), 1, "", "the file is empty; it needs a 'commitments:' list")]
            )
        watchlist = _validate(Watchlist, path, tree)
        problems = _duplicates(path, tree, watchlist.commitments, "commitments", "id")
        problems += _check_dates(path, tree, watchlist)
        problems += _check_parties(path, tree, watchlist)
    except ConfigError as exc:
        return None, exc.problems
    return watchlist, problems


def _load_sources(path: Path, tree: Any) -> tuple[Sources | None, list[ConfigProblem]]:
    try:
        if not path.exists():
            raise ConfigError(
                [ConfigProblem(str(path), None, "", "sources.yaml is missing: no feed would be read")]
            )
        sources = _validate(Sources, path, tree if tree is not None else CommentedMap())
        problems = _duplicates(path, tree, sources.sources, "sources", "name")
        problems += _duplicates(path, tree, sources.sources, "sources", "url")
        problems += _duplicates(path, tree, sources.search, "search", "name")
    except ConfigError as exc:
        return None, exc.problems
    return sources, problems


def load_config(directory: str | os.PathLike[str]) -> Config:
    """Load and validate every file of a config directory, collecting all problems before failing."""
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError([ConfigProblem(str(root), None, "", "config directory does not exist")])
    problems: list[ConfigProblem] = []
    targets: tuple[NotifyTarget, ...] = ()
    notify_text = ""
    alerts = AlertsSettings()

    watchlist, found = _fast_then_exact(root / "watchlist.yaml", _load_watchlist)
    problems += found
    sources, found = _fast_then_exact(root / "sources.yaml", _load_sources)
    problems += found

    try:
        targets, notify_text = load_notify(root / "notify.yaml")
    except ConfigError as exc:
        problems += exc.problems

    path = root / "alerts.yaml"
    if path.exists():
        try:
            tree = read_yaml(path)
            alerts = _validate(AlertsSettings, path, tree if tree is not None else CommentedMap())
            if watchlist is not None:
                problems += _check_alert_names(path, tree, alerts, watchlist)
        except ConfigError as exc:
            problems += exc.problems

    if problems or watchlist is None or sources is None:
        raise ConfigError(problems)
    return Config(root, watchlist, sources, targets, notify_text, alerts)


APP_NAME = "trade-monitor"
CONFIG_ENV = "TRADE_MONITOR_CONFIG"


def user_config_dir() -> Path:
    """Where `trade-monitor init` writes the config: the platform's user config directory."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def shipped_config_dir() -> Path:
    """The config that ships inside the package (a copy of the repository's config/)."""
    return Path(__file__).resolve().parent / "shipped_config"


def shipped_labelled_set() -> Path:
    return Path(__file__).resolve().parent / "shipped_data" / "labelled.jsonl"


class ConfigNotFoundError(TradeMonitorError):
    """No config directory in any of the places looked at; the message says how to make one."""


def _is_config(path: Path) -> bool:
    return (path / "watchlist.yaml").is_file()


def find_config_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config directory a command uses: ``--config-dir``, then ``$TRADE_MONITOR_CONFIG``, then
    ``./config``, then the user config directory. A place the user named explicitly must exist (a typo
    must not silently fall through to another config); the two implicit ones are skipped when absent."""
    how = (
        f"Create one with `trade-monitor init` (writes the shipped config to {user_config_dir()}), "
        "`trade-monitor init DIR`, or pass --config-dir DIR."
    )
    if explicit is not None:
        path = Path(explicit)
        if not _is_config(path):
            what = "has no watchlist.yaml" if path.is_dir() else "does not exist"
            raise ConfigNotFoundError(f"config directory {path} (--config-dir) {what}. {how}")
        return path
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env)
        if not _is_config(path):
            what = "has no watchlist.yaml" if path.is_dir() else "does not exist"
            raise ConfigNotFoundError(f"config directory {path} (${CONFIG_ENV}) {what}. {how}")
        return path
    looked = [Path("config"), user_config_dir()]
    for path in looked:
        if _is_config(path):
            return path
    places = "; ".join(
        [
            "--config-dir (not given)",
            f"${CONFIG_ENV} (not set)",
            f"./config ({Path('config').resolve()}: no watchlist.yaml)",
            f"the user config directory ({looked[1]}: no watchlist.yaml)",
        ]
    )
    raise ConfigNotFoundError(f"no config found. Looked at: {places}. {how}")


def write_shipped_config(target: Path, force: bool = False) -> list[Path]:
    """Copy the shipped config files into ``target``; existing files are kept unless ``force``."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(shipped_config_dir().glob("*.yaml")):
        dest = target / source.name
        if dest.exists() and not force:
            continue
        shutil.copyfile(source, dest)
        written.append(dest)
    return written


def default_config_dir() -> Path:
    """``$TRADE_MONITOR_CONFIG`` or ``./config``: the shipped config when run from a clone."""
    return Path(os.environ.get("TRADE_MONITOR_CONFIG", "config"))
