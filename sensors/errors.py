"""The root error of the sensors package; the API maps it to HTTP in one place."""

from __future__ import annotations


class SensorsError(Exception):
    """Anything that went wrong in the sensors package that a caller can act on."""

    http_status = 500


class InvalidBatch(SensorsError):
    """A batch as a whole cannot be taken (not a list, too large); single bad readings are
    rejected one by one in the `BatchResult` instead."""

    http_status = 400


class StoreError(SensorsError):
    """The raw reading store could not write or read durably."""

    http_status = 503


class BrokerError(SensorsError):
    """The local Mosquitto broker could not be started, reached or stopped."""

    http_status = 503


class NotFound(SensorsError):
    http_status = 404


class InvalidArgument(SensorsError):
    """A query argument is out of bounds (a cursor that does not parse, too many points)."""

    http_status = 400
