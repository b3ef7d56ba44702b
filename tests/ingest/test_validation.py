"""Row and file validation without a database: converters, readers, encoding, manifest."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ingest.errors import FileRefused, FolderRefused
from ingest.formats import BY_NAME, FILES, referenced_files
from ingest.validation import (
    BadValue,
    FileReader,
    Reject,
    Row,
    read_manifest,
    scan_file,
    to_bool,
    to_date,
    to_money,
    to_percent,
    to_sha256,
    to_timestamp,
    to_uscc,
)


def _read(path: Path, name: str) -> tuple[list[Row], list[Reject], FileReader]:
    reader = FileReader(BY_NAME[name], path)
    rows: list[Row] = []
    rejects: list[Reject] = []
    for item in reader.rows():
        (rejects if isinstance(item, Reject) else rows).append(item)  # type: ignore[arg-type]
    return rows, rejects, reader


def test_load_order_puts_every_referenced_file_first() -> None:
    position = {spec.name: i for i, spec in enumerate(FILES)}
    for spec in FILES:
        for f in spec.fields:
            targets = [f.ref] if f.ref else list(f.ref_by[1].values()) if f.ref_by else []
            for target in targets:
                assert position[target] < position[spec.name], (spec.name, f.name, target)
    assert "enterprises" in referenced_files() and "payments" not in referenced_files()


def test_money_is_integer_minor_units() -> None:
    assert to_money("1250000") == 1250000
    assert to_money(1250000) == 1250000
    with pytest.raises(BadValue, match="decimal point"):
        to_money("12500.00")
    with pytest.raises(BadValue, match="decimal point"):
        to_money(12.5)
    with pytest.raises(BadValue, match="negative"):
        to_money("-5")
    with pytest.raises(BadValue, match="not an integer"):
        to_money("12k")
    with pytest.raises(BadValue, match="too large"):
        to_money(str(2**63))


def test_dates_and_timestamps() -> None:
    assert to_date("2025-03-31") == date(2025, 3, 31)
    with pytest.raises(BadValue, match="not a calendar date"):
        to_date("2025-02-30")
    with pytest.raises(BadValue, match="ISO date"):
        to_date("2025/03/31")
    with pytest.raises(BadValue, match="ISO date"):
        to_date("20250331")
    aware = to_timestamp("2025-03-31T08:00:00+08:00")
    assert aware == datetime(2025, 3, 31, 0, 0, tzinfo=UTC)
    assert aware.utcoffset() == timedelta(hours=8)
    assert to_timestamp("2025-03-31T00:00:00Z").tzinfo is not None
    with pytest.raises(BadValue, match="no UTC offset"):
        to_timestamp("2025-03-31T08:00:00")
    assert to_timestamp("2025-03-31 08:00+0800").tzinfo == timezone(timedelta(hours=8))


def test_uscc_bad_check_character_is_flagged_but_malformed_is_rejected() -> None:
    ok = to_uscc("91150100MA1X2Y3NX2")
    assert ok.valid and ok.problem is None
    flagged = to_uscc("91150100123456788C")
    assert not flagged.valid and flagged.problem is not None
    assert flagged.problem.startswith("check_character") and "expected B" in flagged.problem
    with pytest.raises(BadValue, match=r"malformed USCC.*17 characters"):
        to_uscc("91150100123456788")
    with pytest.raises(BadValue, match=r"malformed USCC.*alphabet"):
        to_uscc("9115O1OOABCDEF127E")  # letter O is not in the alphabet


def test_small_converters() -> None:
    assert to_bool("true") and to_bool("1") and not to_bool("false") and not to_bool(0 == 1)
    with pytest.raises(BadValue):
        to_bool("yes")
    assert to_percent("51.5") == 51.5
    with pytest.raises(BadValue, match="between 0 and 100"):
        to_percent("100.5")
    with pytest.raises(BadValue, match="more than 4 decimals"):
        to_percent("10.12345")
    with pytest.raises(BadValue, match="clear national ID"):
        to_sha256("110101199001011234")


def test_csv_rows_report_file_line_field_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(
        "id,seller_id,buyer_id,amount,issued_on,colour\n"
        "I1,E1,E2,100,2025-01-01,red\n"
        "I2,E1,E2,-3,2025-01-01,\n"
        "I3,E1,E2,12.50,2025-01-01,\n"
        '"I4,x",E1,E2,100,2025-01-01,\n'
        "I5,E1,E2,100,2025-13-01,\n"
        "I6,E1,E2,abc,yesterday,\n"
        "I7,E1,,100,2025-01-01,\n"
        "I8,E1,E2,100\n"
        "I9,E1,E2,100,2025-01-01,,surplus\n",
        encoding="utf-8",
    )
    rows, rejects, reader = _read(path, "invoices")
    assert [r.values["id"] for r in rows] == ["I1"]
    assert rows[0].values["amount"] == 100 and rows[0].values["currency"] == "CNY"
    assert reader.unknown_columns == ["colour"]
    got = {(r.line, r.field): r.reason for r in rejects}
    assert got[(3, "amount")] == "negative amount -3"
    assert "decimal point" in got[(4, "amount")]
    assert "is not an id" in got[(5, "id")]
    assert "not a calendar date" in got[(6, "issued_on")]
    assert "not an integer amount" in got[(7, "amount")]
    assert got[(8, "buyer_id")] == "required value is missing"
    assert got[(9, "")] == "4 cells, the header has 6"
    assert got[(10, "")] == "7 cells, the header has 6"
    assert rejects[-1].raw["_extra_cells"] == ["surplus"]
    six = next(r for r in rejects if r.line == 7)
    assert six.other_errors == (("issued_on", "'yesterday' is not an ISO date (YYYY-MM-DD)"),)
    line = json.loads(six.to_json())
    assert line["file"] == "invoices.csv" and line["raw"]["issued_on"] == "yesterday"


def test_naive_timestamp_in_a_row_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "sensors.csv"
    path.write_text(
        "id,kind,last_seen\nS1,gps,2025-06-01T08:00:00+08:00\nS2,gps,2025-06-01T08:00:00\n",
        encoding="utf-8",
    )
    rows, rejects, _ = _read(path, "sensors")
    assert [r.values["id"] for r in rows] == ["S1"]
    assert rows[0].values["last_seen"].utcoffset() == timedelta(hours=8)
    assert (rejects[0].line, rejects[0].field) == (3, "last_seen")
    assert "no UTC offset" in rejects[0].reason


def test_missing_required_column_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text("id,seller_id,amount,issued_on\nI1,E1,100,2025-01-01\n", encoding="utf-8")
    with pytest.raises(FileRefused, match="missing required column buyer_id") as e:
        _read(path, "invoices")
    assert e.value.file == "invoices.csv" and e.value.field == "buyer_id"


def test_jsonl_rows(tmp_path: Path) -> None:
    path = tmp_path / "payments.jsonl"
    lines = [
        {"id": "P1", "invoice_id": "I1", "payer_id": "E2", "payee_id": "E1", "amount": 5,
         "paid_on": "2025-01-01", "note": "x"},
        {"id": "P2", "invoice_id": "I1", "payer_id": "E2", "payee_id": "E1", "amount": 5.5,
         "paid_on": "2025-01-01"},
        {"id": "P3", "invoice_id": "I1", "payer_id": "E2", "amount": 5, "paid_on": "2025-01-01"},
    ]  # fmt: skip
    path.write_text(
        "\n".join(json.dumps(x) for x in lines) + "\n{not json\n[1]\n", encoding="utf-8"
    )
    rows, rejects, reader = _read(path, "payments")
    assert [r.values["id"] for r in rows] == ["P1"] and reader.unknown_columns == ["note"]
    got = {(r.line, r.field): r.reason for r in rejects}
    assert "decimal point" in got[(2, "amount")]
    assert got[(3, "payee_id")] == "required value is missing"
    assert got[(4, "")].startswith("invalid JSON")
    assert got[(5, "")] == "not a JSON object"


def test_gbk_file_is_refused_with_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "enterprises.csv"
    header = b"id,name\n"
    path.write_bytes(header + "E1,包头市金牛养殖有限公司\n".encode("gbk"))
    with pytest.raises(FileRefused) as e:
        scan_file(path)
    message = str(e.value)
    assert f"byte offset {len(header) + 3}" in message  # the first GBK byte after "E1,"
    assert "line 2" in message and "GBK" in message and "enterprises.csv" in message


def test_utf8_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "phones.csv"
    path.write_bytes("\ufeffid,number\nP1,0471-5551234\n".encode())
    scan = scan_file(path)
    assert scan.lines == 2 and len(scan.sha256) == 64
    rows, rejects, _ = _read(path, "phones")
    assert rejects == [] and rows[0].values == {"id": "P1", "number": "0471-5551234"}


def test_clear_national_id_is_never_copied_to_rejects(tmp_path: Path) -> None:
    path = tmp_path / "persons.csv"
    path.write_text("id,name,id_hash\nR1,张伟,110101199001011234\n", encoding="utf-8")
    _, rejects, _ = _read(path, "persons")
    assert rejects[0].field == "id_hash" and "110101199001011234" not in rejects[0].to_json()


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"format": "other-format", "version": 1}, "format 'other-format'"),
        ({"format": "chainlens-ingest", "version": 3}, "version 3 is not supported"),
        ({"format": "chainlens-ingest", "version": 1, "created_at": "2026-11-23T00:00:00"},
         "no UTC offset"),
    ],
)  # fmt: skip
def test_manifest_of_another_format_or_version_is_refused(
    tmp_path: Path, manifest: dict[str, object], message: str
) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FolderRefused, match=message):
        read_manifest(tmp_path)


def test_manifest_is_optional_and_read(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) is None
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {"format": "chainlens-ingest", "version": 1, "seed": 7, "counts": {"enterprises": 3}}
        )
    )
    manifest = read_manifest(tmp_path)
    assert manifest is not None and manifest.seed == 7 and manifest.counts == {"enterprises": 3}
