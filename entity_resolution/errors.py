"""The root error of entity resolution; the API maps it to HTTP in one place."""

from __future__ import annotations


class EntityResolutionError(Exception):
    """Anything in entity resolution that a caller can act on."""

    http_status = 500


class InvalidRecord(EntityResolutionError):
    """A record cannot be resolved as given (no name, bad id)."""

    http_status = 400


class UnknownRecord(EntityResolutionError):
    """A decision or lookup names a source record that does not exist."""

    http_status = 404
