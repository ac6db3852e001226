"""The exceptions trade-monitor raises, in one hierarchy so callers can catch broadly or narrowly.

Every error a user can cause (a bad config, an unreachable feed, a dead notification endpoint) is a
`TradeMonitorError`; anything else escaping the package is a bug.
"""

from __future__ import annotations


class TradeMonitorError(Exception):
    """Base class of every error trade-monitor raises on purpose."""


class ConfigError(TradeMonitorError):
    """A config file is unreadable or invalid; each problem names file, line and key."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ConfigProblem:
    """One thing wrong in one config file, located as precisely as the YAML allows."""

    def __init__(self, file: str, line: int | None, key: str, message: str) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.message = message

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        key = f" [{self.key}]" if self.key else ""
        return f"{where}:{key} {self.message}"

    def __repr__(self) -> str:
        return f"ConfigProblem({self!s})"


class FetchError(TradeMonitorError):
    """A source could not be fetched; `kind` is a short stable label (timeout, dns, tls, http_404...)."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class NotAFeedError(TradeMonitorError):
    """A document was fetched but is not RSS or Atom (an HTML page, an empty body, garbage)."""


class StorageError(TradeMonitorError):
    """The database is unreachable or refused a write."""


class DeliveryError(TradeMonitorError):
    """A notification could not be handed to any of its targets."""
