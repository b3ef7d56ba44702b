"""Entity resolution: one enterprise and one person per real-world entity.

`resolve_records` (pure) turns enterprise source records into entities with explained links;
`match(a, b)` scores one pair the same way, with its reasons;
`store.write_resolution` and `store.record_decision` keep them and people's judgements in the
graph; `persons.resolve_persons` does the same, more simply, for people.

Names are imported lazily so that `entity_resolution.uscc` stays cheap to import (the
generator uses it) without loading spaCy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EnterpriseRecord": "entity_resolution.records",
    "Decision": "entity_resolution.resolver",
    "Entity": "entity_resolution.resolver",
    "MatchResult": "entity_resolution.match",
    "RecordLink": "entity_resolution.resolver",
    "Resolution": "entity_resolution.resolver",
    "ResolutionIndex": "entity_resolution.resolver",
    "match": "entity_resolution.match",
    "resolve_records": "entity_resolution.resolver",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'entity_resolution' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
