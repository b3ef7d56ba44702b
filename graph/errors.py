"""The root error of the graph package; the API maps it to HTTP in one place."""

from __future__ import annotations


class GraphError(Exception):
    """Anything that went wrong in the graph layer that a caller can act on."""

    http_status = 500


class Neo4jServerError(GraphError):
    """The managed Neo4j server could not be installed, started or stopped."""


class DatabaseUnavailable(GraphError):
    """Neo4j cannot be reached (or the connection was lost mid-request): try again later.
    A write that met it may or may not have committed; every write is keyed, so sending the
    same request again applies it once."""

    http_status = 503


class NotFound(GraphError):
    http_status = 404


class InvalidArgument(GraphError):
    http_status = 400


class UndeclaredProperty(GraphError):
    """A writer tried to store a property that `graph.model` does not declare for the label:
    a programming error, caught before the graph silently grows a second spelling."""
