"""Matching outside records against the graph's enterprises: the onboarding lookup.

A relationship manager types a name (and a USCC, phone or address when known); a list of a
partner's customers arrives as a CSV file. Each record is compared with the enterprises the
graph already holds: the holder of its USCC and the best full-text hits on its names are the
candidates (`graph.queries.resolution.read_match_candidates`), and each candidate is scored
by `match` — the same features, model and shipped trade-name frequencies as every run, so a
candidate's score is the score the pair would get anywhere. Candidates come back best first,
with the reasons; a candidate is `same` when its score reaches the model's threshold and no
cannot-link rule keeps the two apart.

`match_file` does it for every row of a CSV file: a row without a name is rejected on its own
(with its line number), never the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from neo4j import Driver

from entity_resolution.errors import InvalidRecord
from entity_resolution.match import MatchResult, match_prepared
from entity_resolution.pipeline import ProgressCallback, master_record
from entity_resolution.records import RECORD_FIELDS, EnterpriseRecord, prepare_records
from entity_resolution.score import MatchModel, TradeRarity, default_model
from graph.queries import resolution as q

# How many enterprises the search hands to the scorer for one record.
CANDIDATE_POOL = 50
MAX_FIRST = 50
# The columns an outside file may carry (any others are kept and written back as given).
FILE_FIELDS = RECORD_FIELDS
RESULT_FIELDS = ("rank", "enterprise_id", "enterprise_name", "score", "same", "blocked_by",
                 "agreed", "disagreed")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Candidate:
    """An enterprise an outside record may be, and how well they match."""

    enterprise_id: str
    name: str
    result: MatchResult


def match_candidates(
    driver: Driver,
    database: str,
    record: EnterpriseRecord,
    first: int = 5,
    *,
    model: MatchModel | None = None,
    rarity: TradeRarity | None = None,
) -> list[Candidate]:
    """The ``first`` enterprises ``record`` most likely is, best first (see the module doc).

    Raises `InvalidRecord` for a record without a name or a ``first`` outside 1..50.
    """
    if not 1 <= first <= MAX_FIRST:
        raise InvalidRecord(f"first must be between 1 and {MAX_FIRST}, not {first}")
    query = q.lucene_words(record.name, record.name_en, *record.aliases)
    if not query:
        raise InvalidRecord(f"record {record.record_id or '(unnamed)'} has no name")
    (outside,) = prepare_records([record])
    rows = q.read_match_candidates(driver, database, query, record.uscc.strip().upper(),
                                   CANDIDATE_POOL)  # fmt: skip
    if not rows:
        return []
    masters = prepare_records([master_record(r) for r in rows])
    model = model or default_model()
    rarity = rarity or TradeRarity.reference()
    scored = [
        Candidate(m.record.enterprise_id, m.record.name,
                  match_prepared(outside, m, model, rarity))
        for m in masters
    ]  # fmt: skip
    scored.sort(key=lambda c: (-c.result.score, c.enterprise_id))
    return scored[:first]


@dataclass(frozen=True, slots=True)
class FileSummary:
    rows: int
    matched: int  # rows whose best candidate is `same`
    unmatched: int
    rejected: int
    out: Path
    rejects: Path | None

    def line(self) -> str:
        rejects = f"; rejects in {self.rejects}" if self.rejects else ""
        return (f"{self.rows} rows: {self.matched} matched, {self.unmatched} without a match, "
                f"{self.rejected} rejected; matches in {self.out}{rejects}")


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "name" not in reader.fieldnames:
            raise InvalidRecord(f"{path} has no 'name' column (header: {reader.fieldnames})")
        for line, row in enumerate(reader, start=2):
            yield line, {k: (v or "").strip() for k, v in row.items() if k is not None}


def match_file(
    driver: Driver,
    database: str,
    path: Path,
    out: Path,
    *,
    first: int = 1,
    progress: ProgressCallback | None = None,
) -> FileSummary:
    """Match every row of the CSV file ``path`` (a ``name`` column, and any of
    `FILE_FIELDS`) against the graph; write each row with its ``first`` candidates (one line
    per candidate, `RESULT_FIELDS` appended; a row without one gets empty result columns) to
    ``out``, and rows that cannot be matched, with the reason, beside it
    (``NAME.matches.csv`` -> ``NAME.rejects.csv``)."""
    rows = list(_rows(path))
    columns = list(rows[0][1]) if rows else ["name"]
    model, rarity = default_model(), TradeRarity.reference()
    stem = out.name.removesuffix(".csv").removesuffix(".matches")
    rejects_path = out.with_name(f"{stem}.rejects.csv")
    matched = unmatched = 0
    rejected: list[tuple[int, dict[str, str], str]] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([*columns, *RESULT_FIELDS])
        for done, (line, row) in enumerate(rows, start=1):
            record = EnterpriseRecord.from_fields(row.get("record_id") or f"line-{line}",
                                                  path.name, row)  # fmt: skip
            if progress is not None:
                progress("matching rows", done, len(rows))
            try:
                found = match_candidates(driver, database, record, first,
                                         model=model, rarity=rarity)  # fmt: skip
            except InvalidRecord as e:
                rejected.append((line, row, str(e)))
                continue
            given = [row.get(c, "") for c in columns]
            if found and found[0].result.same:
                matched += 1
            else:
                unmatched += 1
            if not found:
                writer.writerow([*given, *([""] * len(RESULT_FIELDS))])
            for rank, c in enumerate(found, start=1):
                r = c.result
                writer.writerow([*given, rank, c.enterprise_id, c.name, f"{r.score:.4f}",
                                 "true" if r.same else "false", r.blocked_by,
                                 " ".join(r.agreed), " ".join(r.disagreed)])  # fmt: skip
    if rejected:
        with rejects_path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["line", *columns, "error"])
            for line, row, error in rejected:
                writer.writerow([line, *(row.get(c, "") for c in columns), error])
    elif rejects_path.exists():
        rejects_path.unlink()
    return FileSummary(len(rows), matched, unmatched, len(rejected), out,
                       rejects_path if rejected else None)
