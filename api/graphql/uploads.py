"""The fields that take a file (the GraphQL multipart request spec, `file: Upload!`): their
bytes read one way, and a refused file answered with its HTTP status, as the REST doors do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.datastructures import UploadFile
from strawberry.types import Info

from api.errors import http_status_of
from api.graphql.context import Context
from documents.errors import DocumentsError


async def read_upload(file: Any, limit: int, missing: Exception) -> bytes:
    """At most ``limit`` + 1 bytes of the uploaded file (enough to tell that it is over
    ``limit``); ``missing`` is raised when the request carries no file part."""
    if not isinstance(file, UploadFile):
        raise missing
    return await file.read(limit + 1)


@contextmanager
def refused_with_status(info: Info[Context, None]) -> Iterator[None]:
    """A documents refusal raised inside answers with its HTTP status (400, 413, 415, 422 ...)."""
    try:
        yield
    except DocumentsError as e:
        if info.context.response is not None:
            info.context.response.status_code = http_status_of(e)
        raise
