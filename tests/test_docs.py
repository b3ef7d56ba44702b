"""Docs are executable claims: every GraphQL example in README.md and docs/ is valid against
the schema the API serves (field names, arguments, types), so a renamed field fails here
before a reader copies a dead example. The README's example queries are also run against
data by tests/api/test_client.py; the journeys (tests/journeys/) run the documented flows."""

from __future__ import annotations

import re

import pytest
from graphql import parse, validate

from api.graphql.schema import build_schema
from chainlens.settings import PROJECT_ROOT, Environment, Settings

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
BLOCKS = [
    pytest.param(block, id=f"{path.name}:{n}")
    for path in DOCS
    for n, block in enumerate(
        re.findall(r"```graphql\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
    )
]


@pytest.fixture(scope="module")
def schema() -> object:
    return build_schema(Settings(environment=Environment.TEST))._schema


def test_the_docs_have_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("block", BLOCKS)
def test_every_graphql_example_is_valid(block: str, schema: object) -> None:
    errors = validate(schema, parse(block))  # type: ignore[arg-type]
    assert errors == [], [e.message for e in errors]


def test_docs_name_only_files_that_exist() -> None:
    missing = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for ref in set(re.findall(r"`((?:api|cli|finance|graph|gnn|ingest|sensors|"
                                  r"entity_resolution|bench|tests|scripts)/[\w/.-]+\.\w+)`",
                                  text)):
            if not (PROJECT_ROOT / ref).exists():
                missing.append(f"{path.name}: {ref}")
    assert missing == []

