"""Values as they come back from the driver, made plain Python."""

from __future__ import annotations

from typing import Any


def native(value: Any) -> Any:
    """A neo4j date, time or datetime as Python's own type; any other value unchanged."""
    return value.to_native() if hasattr(value, "to_native") else value
