"""The onboarding lookup through the front door, on the journey world: a relationship manager
asks GraphQL which enterprise a firm is (`matchCandidates`), written as a customer writes it;
a partner's list is matched from the CLI (`chainlens resolve --file`). Issue #21, item 6."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import opencc
import pytest

from tests.journeys.conftest import Api, World

LOOKUP = """query($name: String!, $uscc: String, $phone: String, $first: Int!) {
  matchCandidates(name: $name, uscc: $uscc, phone: $phone, first: $first) {
    enterpriseId name score same threshold blockedBy agreed disagreed contributions
    enterprise { id name }
  }
}"""
_FORMS = ("股份有限公司", "有限责任公司", "有限公司")
_S2T = opencc.OpenCC("s2t")


def _without_form(name: str) -> str:
    for form in _FORMS:
        if name.endswith(form):
            return name[: -len(form)]
    return name


def _subjects(world: World, n: int = 4) -> list[dict[str, str]]:
    """Enterprises with a Chinese name ending in a legal form, spread over the file."""
    rows = [r for r in world.rows("enterprises")
            if r["name"].endswith(_FORMS) and r.get("uscc")]  # fmt: skip
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def test_relationship_manager_finds_a_firm_written_otherwise(api: Api, world: World) -> None:
    for subject in _subjects(world):
        for written in (_without_form(subject["name"]), _S2T.convert(subject["name"])):
            found = api.gql("rita", LOOKUP, name=written, first=3)["matchCandidates"]
            assert found, written
            best = found[0]
            assert best["enterpriseId"] == subject["id"], (written, found)
            assert best["enterprise"] == {"id": subject["id"], "name": subject["name"]}
            assert best["same"] and best["score"] >= best["threshold"]
            assert best["agreed"] and best["blockedBy"] is None
            scores = [c["score"] for c in found]
            assert scores == sorted(scores, reverse=True)
        # The USCC finds the holder under any name, and a different one keeps it apart.
        by_code = api.gql("rita", LOOKUP, name="某某公司", uscc=subject["uscc"], first=1)
        assert by_code["matchCandidates"][0]["enterpriseId"] == subject["id"]
        assert "uscc_same" in by_code["matchCandidates"][0]["agreed"]


def test_lookup_refuses_bad_input_and_unknown_roles(api: Api, world: World) -> None:
    assert api.error("rita", LOOKUP, name=" ,; ", first=3).code == "BAD_REQUEST"
    assert api.error("rita", LOOKUP, name="宁波", first=0).code == "BAD_REQUEST"
    assert api.error("rita", LOOKUP, name="宁" * 201, first=1).code == "BAD_REQUEST"
    # A firm the graph does not hold is nobody's match.
    none = api.gql("anna", LOOKUP, name="Zyxwvut Quantum Lobster Holdings GmbH", first=5)
    assert not any(c["same"] for c in none["matchCandidates"])
    anonymous = api.client.post("/graphql", json={"query": LOOKUP,
                                                  "variables": {"name": "x", "first": 1}})
    assert anonymous.status_code == 401


@pytest.mark.slow
def test_partner_list_is_matched_from_the_cli(
    world: World, cli_env: dict[str, str], tmp_path: Path
) -> None:
    subjects = _subjects(world, 3)
    listing = tmp_path / "partner.csv"
    with listing.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["record_id", "name", "uscc", "note"])
        for k, s in enumerate(subjects):
            w.writerow([f"p{k}", _without_form(s["name"]), "", f"row {k}"])
        w.writerow(["p-none", "Zyxwvut Quantum Lobster Holdings GmbH", "", "unknown"])
        w.writerow(["p-blank", "", "", "no name"])
    done = subprocess.run([sys.executable, "-m", "cli.main", "resolve", "--file", str(listing)],
                          env=cli_env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 matched, 1 without a match, 1 rejected" in " ".join(done.stderr.split())
    with (tmp_path / "partner.matches.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_id = {r["record_id"]: r for r in rows}
    for k, s in enumerate(subjects):
        row = by_id[f"p{k}"]
        assert (row["enterprise_id"], row["same"], row["note"]) == (s["id"], "true", f"row {k}")
        assert float(row["score"]) >= 0.5 and row["agreed"]
    assert by_id["p-none"]["same"] in ("false", "")
    assert "p-blank" not in by_id
    with (tmp_path / "partner.rejects.csv").open(encoding="utf-8") as f:
        (reject,) = list(csv.DictReader(f))
    assert reject["record_id"] == "p-blank" and reject["line"] == "6"
    assert "no name" in reject["error"]
