"""The API serves the built explorer at "/" next to its own routes, and says how to build it
when the build is missing."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from neo4j import Driver

import api.app
from chainlens.settings import Environment, Settings
from tests.api.serving import serve


def test_root_serves_the_built_explorer(web_url: str) -> None:
    index = httpx.get(web_url + "/", timeout=30)
    assert index.status_code == 200 and "<title>ChainLens explorer</title>" in index.text
    script = re.search(r'src="\./(assets/[^"]+\.js)"', index.text)
    assert script, index.text
    bundle = httpx.get(f"{web_url}/{script.group(1)}", timeout=30)
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    # The API's own routes still win over the static mount.
    assert httpx.get(web_url + "/health", timeout=30).json()["status"] == "ok"
    assert httpx.post(web_url + "/graphql", json={"query": "{ __typename }"}).status_code == 401


def test_missing_build_answers_how_to_build_it(
    neo4j_settings: Settings, driver: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.app, "WEB_DIST", tmp_path / "no-dist")
    settings = neo4j_settings.model_copy(update={"environment": Environment.TEST})
    with serve(settings, driver) as url:
        page = httpx.get(url + "/", timeout=30)
    assert page.status_code == 503
    assert "make web" in page.text and "npm ci" in page.text
