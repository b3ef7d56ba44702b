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


LOOKUP_MORE = """query($name: String!, $phone: String, $country: String, $aliases: [String!],
                    $identifiers: [String!]) {
  matchCandidates(name: $name, phone: $phone, country: $country, aliases: $aliases,
                  identifiers: $identifiers, first: 3) {
    enterpriseId score same blockedBy agreed
  }
}"""
SOURCES = """query($id: ID!) { enterprise(id: $id) { id sourceRecords { recordId source } } }"""


def _phone_of(world: World, enterprise: dict[str, str]) -> str:
    phones = {r["id"]: r["number"] for r in world.rows("phones")}
    return phones[enterprise["phone_id"]]


def _e164(number: str) -> str:
    """A Chinese number as another source writes it: +86, no trunk 0, no dash."""
    return "+86 " + number.replace("-", " ").lstrip("0")


def test_lookup_by_other_names_phone_formats_and_country(api: Api, world: World) -> None:
    subject = next(s for s in _subjects(world, 8) if s.get("phone_id"))
    # Known by a former name: the firm's current name is an alias of the record.
    renamed = api.gql("rita", LOOKUP_MORE, name="寰宇拓展新材料科技股份有限公司",
                      aliases=[subject["name"]])["matchCandidates"]  # fmt: skip
    assert renamed[0]["enterpriseId"] == subject["id"] and renamed[0]["same"], renamed
    # The phone written in E.164 is the same phone.
    phone = api.gql("rita", LOOKUP_MORE, name=_without_form(subject["name"]),
                    phone=_e164(_phone_of(world, subject)))["matchCandidates"]  # fmt: skip
    assert phone[0]["enterpriseId"] == subject["id"], phone
    assert "phone_same" in phone[0]["agreed"]
    # The same name registered in another country is another legal person.
    abroad = api.gql("rita", LOOKUP_MORE, name=subject["name"], country="US")["matchCandidates"]
    mine = next(c for c in abroad if c["enterpriseId"] == subject["id"])
    assert not mine["same"] and mine["blockedBy"] == "registered in different regions"
    # A malformed identifier is refused with the others' limits; a bad LEI is only flagged.
    long_list = api.error("rita", LOOKUP_MORE, name="x", aliases=["a"] * 21)
    assert long_list.code == "BAD_REQUEST"


def _lei(body: str) -> str:
    digits = "".join(str(int(c, 36)) for c in body + "00")
    return f"{body}{98 - int(digits) % 97:02d}"


@pytest.mark.slow
def test_foreign_records_and_persons_resolve_through_the_cli(
    api: Api, world: World, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """Records with aliases, LEIs and a country, and persons with a date of birth and an
    email, loaded by `chainlens resolve --folder`: the alias and the LEI bring two records
    to the firm, the country keeps a third apart, and a romanised name meets its Chinese
    twin on date of birth and email."""
    subject = _subjects(world, 5)[-1]
    lei = _lei("5493000JOURNEY2110")
    folder = tmp_path / "foreign"
    folder.mkdir()
    with (folder / "enterprise_records.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["record_id", "source", "name", "country", "aliases", "identifiers"])
        w.writerow(["FX-alias", "gleif", "Huanyu Expansion Holdings Ltd", "",
                    f"{subject['name']}; Huanyu", f"LEI:{lei}"])  # fmt: skip
        w.writerow(["FX-lei", "gleif", "HX Treasury Services", "", "", f"LEI:{lei}"])
        w.writerow(["FX-us", "sec", subject["name"], "US", "", ""])
        w.writerow(["FX-badlei", "gleif", "Qwerty Lobster Trading", "", "",
                    f"LEI:{lei[:-1]}{(int(lei[-1]) + 1) % 10}"])  # fmt: skip
    with (folder / "persons.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "birth_date", "nationality", "email", "phone"])
        w.writerow(["PX-1", "王思远", "1985-03-02", "CN", "siyuan.wang@example.com", ""])
        w.writerow(["PX-2", "Siyuan WANG", "1985-03-02", "", "Siyuan.Wang@example.com",
                    "+86 138 0013 8000"])  # fmt: skip
        w.writerow(["PX-3", "王思远", "1990-07-01", "", "siyuan.wang@example.com", ""])
        w.writerow(["PX-4", "Wang Siyuan", "2999-01-01", "", "", ""])  # born in the future
    before = _resolve(cli_env)
    after = _resolve(cli_env, "--folder", str(folder))
    assert _same_as(after) == _same_as(before) + 1, (before, after)
    rejects = (folder / "_rejects" / "persons.rejects.jsonl").read_text(encoding="utf-8")
    assert "PX-4" in rejects and "birth_date" in rejects
    records = api.gql("anna", SOURCES, id=subject["id"])["enterprise"]["sourceRecords"]
    ids = {r["recordId"] for r in records}
    assert {"FX-alias", "FX-lei"} <= ids, ids
    assert not ids & {"FX-us", "FX-badlei"}, ids


def _resolve(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "cli.main", "resolve", *args], env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def _same_as(output: str) -> int:
    """The number of persons linked SAME_AS that `chainlens resolve` reports."""
    words = " ".join(output.split())
    marker = " duplicate persons linked SAME_AS"
    assert marker in words, words
    return int(words.split(marker)[0].split()[-1].replace(",", ""))
