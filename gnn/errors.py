"""The root error of the gnn package; the API maps it to HTTP in one place."""

from __future__ import annotations


class GnnError(Exception):
    """Anything that went wrong in risk scoring or contagion that a caller can act on."""

    http_status = 500


class InvalidInput(GnnError):
    """Arguments that cannot describe a network, a shock or a training run."""

    http_status = 400


class ModelNotFound(GnnError):
    """No model of the requested version (or none at all) in the registry."""

    http_status = 404


class DatasetError(GnnError):
    """Generated files or exported graph data that cannot be turned into training data."""

    http_status = 422


class JobConflict(GnnError):
    """A training job was asked for while another one is queued or running."""

    http_status = 409
