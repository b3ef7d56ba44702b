"""Every GraphQL document the explorer sends (api/web/src/*.js) is valid against the schema the
API serves: a page that asks for a field that does not exist fails here, not in a browser."""

from __future__ import annotations

import re

import pytest
from graphql import parse, validate

from api.graphql.schema import build_schema
from chainlens.settings import PROJECT_ROOT, Environment, Settings

SOURCES = sorted((PROJECT_ROOT / "api" / "web" / "src").glob("*.js"))
_TEMPLATE = re.compile(r"`\s*((?:query|mutation|subscription)\b[^`]*)`", re.S)
_FRAGMENTS = re.compile(r"(?:const|export const)\s+(\w+)\s*=\s*`([^`]*)`", re.S)


def documents() -> list[tuple[str, str]]:
    out = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        parts = {name: body for name, body in _FRAGMENTS.findall(text)}
        for n, doc in enumerate(_TEMPLATE.findall(text)):
            # Inline the constants a template interpolates (`${SUBGRAPH}`).
            for name, body in parts.items():
                doc = doc.replace("${" + name + "}", body)
            out.append((f"{path.name}:{n}", doc))
    return out


DOCUMENTS = documents()


def test_the_explorer_sends_queries() -> None:
    assert len(DOCUMENTS) >= 8


@pytest.mark.parametrize(("where", "doc"), DOCUMENTS, ids=[w for w, _ in DOCUMENTS])
def test_every_explorer_query_is_valid(where: str, doc: str) -> None:
    schema = build_schema(Settings(environment=Environment.TEST))._schema
    errors = validate(schema, parse(doc))
    assert errors == [], [e.message for e in errors]
