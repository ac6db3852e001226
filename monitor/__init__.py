"""trade-monitor: watches news and official feeds and tracks whether trade commitments are kept."""

__version__ = "0.1.0"
