"""The OpenAPI description of the board's JSON API (served at /api/openapi.json).

Written out as data rather than generated: the paths are a stable contract, and a description that
changes only when someone edits it is what a contract needs.
"""

from __future__ import annotations

from typing import Any

_STATUS = {"type": "string", "enum": ["pending", "in_progress", "fulfilled", "delayed", "broken", "expired"]}
_TEXT = {"type": "string", "description": "as printed by `status --json`"}

COMMITMENT_SUMMARY: dict[str, Any] = {
    "type": "object",
    "description": "The `status --json` record (same keys and values), plus what the board adds.",
    "required": [
        "commitment",
        "status",
        "since",
        "last_evidence",
        "due_ends",
        "progress",
        "unconfirmed",
        "sides",
    ],
    "properties": {
        "commitment": {"type": "string"},
        "status": _STATUS,
        "since": _TEXT,
        "last_evidence": _TEXT,
        "due_ends": _TEXT,
        "progress": _TEXT,
        "unconfirmed": _TEXT,
        "sides": _TEXT,
        "title": {"type": "string"},
        "party": {"type": "string"},
        "category": {"type": "string"},
        "status_word": {"type": "string"},
        "key_date_kind": {"type": "string", "enum": ["due", "ends", ""]},
        "key_date": {"type": ["string", "null"], "format": "date"},
        "countdown": {"type": "string"},
        "last_evidence_title": {"type": ["string", "null"]},
        "last_evidence_link": {"type": ["string", "null"], "format": "uri"},
        "unconfirmed_signal": {"type": ["object", "null"]},
        "positions": {"type": "object", "additionalProperties": {"type": "object"}},
        "stated_by": {"type": "array", "items": {"type": "string"}},
        "url": {"type": "string"},
    },
}

TIMELINE_ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["type", "at"],
    "properties": {
        "type": {"type": "string", "enum": ["change", "evidence"]},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "from": _STATUS,
        "to": _STATUS,
        "kind": {"type": "string"},
        "by_hand": {"type": "boolean"},
        "reason": {"type": "string"},
        "corroboration": {"type": "object"},
        "signal": {"type": "string"},
        "confidence": {"type": "number"},
        "link": {"type": ["string", "null"], "format": "uri"},
        "sentence": {"type": "string"},
    },
}


def _get(summary: str, schema: dict[str, Any], param: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}},
    }
    if param:
        op["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]
        op["responses"]["404"] = {"description": "no such commitment in the watchlist"}
    return {"get": op}


def _list(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": [key], "properties": {key: {"type": "array", "items": item}}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "trade-monitor board API",
        "version": "1",
        "description": "Read-only JSON behind the board; beyond loopback send `Authorization: Bearer TOKEN`.",
    },
    "paths": {
        "/api/commitments": _get(
            "Every commitment, in watchlist order", _list("commitments", COMMITMENT_SUMMARY)
        ),
        "/api/commitments/{id}": _get(
            "One commitment with its timeline",
            {
                "allOf": [
                    COMMITMENT_SUMMARY,
                    {"type": "object", "properties": {"timeline": {"type": "array", "items": TIMELINE_ITEM}}},
                ]
            },
            param=True,
        ),
        "/api/sources": _get("Each feed's health", _list("sources", {"type": "object"})),
        "/api/alerts": _get(
            "The outbox, newest first, with delivery state per target", _list("alerts", {"type": "object"})
        ),
    },
}
