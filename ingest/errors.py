"""The root error of the ingest package; the API maps it to HTTP in one place."""

from __future__ import annotations


class IngestError(Exception):
    """Anything in ingest that a caller can act on."""

    http_status = 400


class FolderRefused(IngestError):
    """The folder as a whole cannot be loaded (missing, or a manifest of another format)."""

    http_status = 422


class FileRefused(IngestError):
    """One file cannot be read (encoding, missing required column, bad header); the other
    files still load and the summary names the problem."""

    http_status = 422

    def __init__(self, file: str, reason: str, *, field: str = "", line: int = 0) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason
        self.field = field
        self.line = line
