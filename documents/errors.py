"""The root error of the documents package; `api/errors.py` maps it to a response."""

from __future__ import annotations


class DocumentsError(Exception):
    """An upload or a document that cannot be processed; the message is for the client."""

    http_status = 422


class FileTooLarge(DocumentsError):
    http_status = 413


class UnsupportedFile(DocumentsError):
    """Not an image or PDF this package reads (a text file, an archive, ...)."""

    http_status = 415


class UnreadableFile(DocumentsError):
    """An image or PDF that claims a format but cannot be decoded, or a PDF with no pages."""


class NotADocument(DocumentsError):
    """A readable file in which no licence or invoice layout was found."""


class UnknownReference(DocumentsError):
    """The upload names an enterprise or invoice the graph does not have."""

    http_status = 404
