"""Reading and validating ingest files: one clear message per bad row, nothing lost.

A file is read as CSV or JSON Lines, checked for encoding and columns, and each row converted
with hand-written converters (money to int minor units, dates to `date`, USCCs checked). Bad
rows come back as `Reject`s naming file, line, field and reason with the raw row; the loader
writes them to `DIR/_rejects/NAME.rejects.jsonl`. References and duplicate keys are checked by
the loader, which knows the other files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from entity_resolution.uscc import validate_uscc
from ingest.errors import FileRefused, FolderRefused
from ingest.formats import FORMAT_NAME, FORMAT_VERSION, FieldSpec, FileSpec, Kind, Manifest

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?"
)
_INT = re.compile(r"[+-]?\d+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_REGION = re.compile(r"\d{6}")
_INDUSTRY = re.compile(r"[A-T]\d{0,4}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_CLEAR_ID = re.compile(r"\d{17}[\dXx]|\d{15}")
_INT64_MAX = 2**63 - 1
_TRUE = {"true": True, "1": True, "false": False, "0": False}
_CHUNK = 1 << 20


class BadValue(ValueError):
    """A field value that does not follow the format; the message says why."""


@dataclass(frozen=True, slots=True)
class Reject:
    file: str
    line: int
    field: str
    reason: str
    raw: dict[str, Any]
    other_errors: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        out: dict[str, Any] = {
            "file": self.file, "line": self.line, "field": self.field, "reason": self.reason,
        }  # fmt: skip
        if self.other_errors:
            out["other_errors"] = [{"field": f, "reason": r} for f, r in self.other_errors]
        out["raw"] = self.raw
        return json.dumps(out, ensure_ascii=False, default=str)


@dataclass(slots=True)
class Row:
    """A converted row: field name -> value (None for empty), with its line for messages."""

    line: int
    values: dict[str, Any]
    raw: dict[str, Any]


# ---- converters ---------------------------------------------------------------------------
def _text(v: Any) -> str:
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise BadValue(f"expected text, got {type(v).__name__}")
    return str(v)


def to_id(v: Any) -> str:
    s = _text(v)
    if not _ID.fullmatch(s):
        raise BadValue(f"{s!r} is not an id (1-64 of A-Z a-z 0-9 _ . : -)")
    return s


def to_date(v: Any) -> date:
    s = _text(v)
    if not _DATE.fullmatch(s):
        raise BadValue(f"{s!r} is not an ISO date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(s)
    except ValueError as e:
        raise BadValue(f"{s!r} is not a calendar date ({e})") from e


def to_timestamp(v: Any) -> datetime:
    s = _text(v)
    if not _TIMESTAMP.fullmatch(s):
        raise BadValue(f"{s!r} is not an ISO 8601 timestamp")
    try:
        value = datetime.fromisoformat(s)
    except ValueError as e:
        raise BadValue(f"{s!r} is not a valid timestamp ({e})") from e
    if value.tzinfo is None:
        raise BadValue(f"{s!r} has no UTC offset; timestamps must be timezone-aware")
    return value


def to_money(v: Any) -> int:
    """Integer minor units; a decimal point is refused rather than guessed at."""
    if isinstance(v, bool):
        raise BadValue("expected integer minor units, got a boolean")
    if isinstance(v, int):
        value = v
    elif isinstance(v, float):
        raise BadValue(f"{v!r} has a decimal point: money is integer minor units (fen)")
    else:
        s = _text(v)
        if not _INT.fullmatch(s):
            if re.fullmatch(r"[+-]?\d*\.\d*", s) and s not in (".", "+.", "-."):
                raise BadValue(
                    f"{s!r} has a decimal point: money is integer minor units, "
                    "e.g. 1250000 for 12,500.00"
                )
            raise BadValue(f"{s!r} is not an integer amount")
        value = int(s)
    if value < 0:
        raise BadValue(f"negative amount {value}")
    if value > _INT64_MAX:
        raise BadValue(f"amount {value} is too large")
    return value


def to_currency(v: Any) -> str:
    s = _text(v)
    if not _CURRENCY.fullmatch(s):
        raise BadValue(f"{s!r} is not an ISO 4217 currency code")
    return s


def _decimal(v: Any) -> Decimal:
    if isinstance(v, bool):
        raise BadValue("expected a decimal number, got a boolean")
    s = v if isinstance(v, str) else repr(v) if isinstance(v, float) else str(v)
    try:
        d = Decimal(s.strip())
    except InvalidOperation as e:
        raise BadValue(f"{s!r} is not a decimal number") from e
    if not d.is_finite():
        raise BadValue(f"{s!r} is not a finite number")
    return d


def to_decimal(v: Any) -> float:
    d = _decimal(v)
    if d < 0:
        raise BadValue(f"negative quantity {d}")
    return float(d)


def to_percent(v: Any) -> float:
    d = _decimal(v)
    if not 0 <= d <= 100:
        raise BadValue(f"{d} is not a percentage between 0 and 100")
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise BadValue(f"{d} has more than 4 decimals")
    return float(d)


def to_latitude(v: Any) -> float:
    d = _decimal(v)
    if not -90 <= d <= 90:
        raise BadValue(f"latitude {d} is outside -90..90")
    return float(d)


def to_longitude(v: Any) -> float:
    d = _decimal(v)
    if not -180 <= d <= 180:
        raise BadValue(f"longitude {d} is outside -180..180")
    return float(d)


def to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = _text(v).lower()
    if s not in _TRUE:
        raise BadValue(f"{s!r} is not a boolean (true/false/1/0)")
    return _TRUE[s]


def to_region(v: Any) -> str:
    s = _text(v)
    if not _REGION.fullmatch(s):
        raise BadValue(f"{s!r} is not a 6-digit region code")
    return s


def to_industry(v: Any) -> str:
    s = _text(v)
    if not _INDUSTRY.fullmatch(s):
        raise BadValue(f"{s!r} is not a GB/T 4754 industry code (letter and up to 4 digits)")
    return s


def to_sha256(v: Any) -> str:
    s = _text(v)
    if _CLEAR_ID.fullmatch(s):
        raise BadValue("looks like a clear national ID number; give its SHA-256 hex instead")
    if not _SHA256.fullmatch(s):
        raise BadValue("is not a SHA-256 hex digest (64 hex characters)")
    return s.lower()


@dataclass(frozen=True, slots=True)
class UsccValue:
    code: str
    valid: bool
    problem: str | None


def to_uscc(v: Any) -> UsccValue:
    """Malformed codes (length, alphabet) are rejected; failing checks are only flagged."""
    check = validate_uscc(_text(v))
    if not check.well_formed:
        raise BadValue(f"malformed USCC {check.code!r}: {check.detail}")
    problem = None if check.ok else f"{check.problem}: {check.detail}"
    return UsccValue(check.code, check.ok, problem)


def _enum(choices: tuple[str, ...]) -> Callable[[Any], str]:
    allowed = frozenset(choices)

    def convert(v: Any) -> str:
        s = _text(v)
        if s not in allowed:
            raise BadValue(f"{s!r} is not one of {', '.join(choices)}")
        return s

    return convert


_CONVERTERS: dict[Kind, Callable[[Any], Any]] = {
    Kind.ID: to_id, Kind.TEXT: _text, Kind.DATE: to_date, Kind.TIMESTAMP: to_timestamp,
    Kind.MONEY: to_money, Kind.CURRENCY: to_currency, Kind.PERCENT: to_percent,
    Kind.DECIMAL: to_decimal, Kind.BOOL: to_bool, Kind.USCC: to_uscc, Kind.REGION: to_region,
    Kind.INDUSTRY: to_industry, Kind.SHA256: to_sha256, Kind.LATITUDE: to_latitude,
    Kind.LONGITUDE: to_longitude,
}  # fmt: skip


def converter(spec: FieldSpec) -> Callable[[Any], Any]:
    if spec.kind is Kind.ENUM:
        return _enum(spec.choices)
    return _CONVERTERS[spec.kind]


# ---- files --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FileScan:
    """What one pass over a file's bytes tells before any row is loaded."""

    path: Path
    sha256: str
    size: int
    lines: int


def scan_file(path: Path) -> FileScan:
    """Hash the bytes, count lines and refuse a file that is not UTF-8, naming the byte
    offset (and GBK when the bytes read as GBK, the usual culprit)."""
    digest = hashlib.sha256()
    lines = size = 0
    ok = True
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            size += len(chunk)
            if ok:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    ok = False
    if ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            ok = False
    if not ok:
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            hint = ""
            try:
                data.decode("gb18030")
                hint = " (the bytes read as GBK/GB18030: convert with `iconv -f GB18030 -t UTF-8`)"
            except UnicodeDecodeError:
                pass
            raise FileRefused(
                path.name,
                f"not UTF-8: invalid byte 0x{data[e.start]:02x} at byte offset {e.start} "
                f"(line {line}){hint}",
                line=line,
            ) from e
    return FileScan(path, digest.hexdigest(), size, lines)


@dataclass(slots=True)
class FileReader:
    """Reads one file of a spec as CSV or JSON Lines and yields converted rows or rejects."""

    spec: FileSpec
    path: Path
    unknown_columns: list[str] = field(default_factory=list)
    _plan_cache: list[tuple[str, Callable[[Any], Any], bool, Any]] = field(
        default_factory=list, init=False
    )

    @property
    def display(self) -> str:
        return self.path.name

    def rows(self) -> Iterator[Row | Reject]:
        if self.path.suffix == ".csv":
            return self._csv_rows()
        return self._jsonl_rows()

    # Each field: (name, converter, required, default).
    def _plan(self) -> list[tuple[str, Callable[[Any], Any], bool, Any]]:
        return [
            (f.name, _not_future(converter(f)) if f.not_future else converter(f), f.required,
             f.default)
            for f in self.spec.fields
        ]  # fmt: skip

    def _convert(self, line: int, get: dict[str, Any], raw: dict[str, Any]) -> Row | Reject:
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        for name, convert, required, default in self._plan_cache:
            v = get.get(name)
            if v is None or v == "":
                if required:
                    errors.append((name, "required value is missing"))
                values[name] = default
                continue
            try:
                values[name] = convert(v)
            except BadValue as e:
                errors.append((name, str(e)))
        if errors:
            (f, reason), *others = errors
            return Reject(self.display, line, f, reason, _redact(raw), tuple(others))
        return Row(line, values, raw)

    def _csv_rows(self) -> Iterator[Row | Reject]:
        self._plan_cache = self._plan()
        with self.path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise FileRefused(self.display, "empty file: no header row", line=1) from None
            except csv.Error as e:
                raise FileRefused(self.display, f"unreadable header: {e}", line=1) from e
            header = [h.strip() for h in header]
            self._check_header(header)
            width = len(header)
            line = reader.line_num + 1
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as e:
                    yield Reject(self.display, line, "", f"unreadable CSV: {e}", {})
                    line = reader.line_num + 1
                    continue
                if not cells:  # a blank line
                    line = reader.line_num + 1
                    continue
                raw: dict[str, Any] = dict(zip(header, cells, strict=False))
                if len(cells) != width:
                    if len(cells) > width:
                        raw["_extra_cells"] = cells[width:]  # keep the whole row
                    yield Reject(
                        self.display, line, "",
                        f"{len(cells)} cells, the header has {width}", _redact(raw),
                    )  # fmt: skip
                else:
                    yield self._convert(line, raw, raw)
                line = reader.line_num + 1

    def _check_header(self, header: list[str]) -> None:
        seen: set[str] = set()
        for h in header:
            if h in seen:
                raise FileRefused(self.display, f"column {h!r} appears twice", field=h, line=1)
            seen.add(h)
        missing = [f.name for f in self.spec.fields if f.required and f.name not in seen]
        if missing:
            raise FileRefused(
                self.display,
                f"missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (header: {', '.join(header)})",
                field=missing[0], line=1,
            )  # fmt: skip
        known = set(self.spec.names)
        self.unknown_columns = [h for h in header if h not in known]

    def _jsonl_rows(self) -> Iterator[Row | Reject]:
        self._plan_cache = self._plan()
        known = set(self.spec.names)
        unknown: dict[str, None] = {}
        with self.path.open(encoding="utf-8-sig") as f:
            for line_no, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as e:
                    yield Reject(
                        self.display, line_no, "", f"invalid JSON: {e.msg}", {"text": text}
                    )
                    continue
                if not isinstance(obj, dict):
                    yield Reject(self.display, line_no, "", "not a JSON object", {"text": text})
                    continue
                for k in obj:
                    if k not in known and k not in unknown:
                        unknown[k] = None
                        self.unknown_columns = list(unknown)
                yield self._convert(line_no, obj, obj)


def _not_future(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A date converter that refuses a day after today (a decision cannot be dated ahead)."""

    def check(v: Any) -> Any:
        value = convert(v)
        today = date.today()
        if isinstance(value, date) and value > today:
            raise BadValue(f"{value.isoformat()} is in the future (today is {today.isoformat()})")
        return value

    return check


_SENSITIVE = ("id_hash",)


def _redact(raw: dict[str, Any]) -> dict[str, Any]:
    """Never copy what looks like a clear national ID into a rejects file."""
    out = raw
    for key in _SENSITIVE:
        v = raw.get(key)
        if isinstance(v, str) and _CLEAR_ID.fullmatch(v.strip()):
            out = {**raw, key: "<redacted>"}
    return out


# ---- manifest -----------------------------------------------------------------------------
def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest, or None when absent; another format or version is refused."""
    path = folder / "manifest.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FolderRefused(f"{path}: unreadable manifest ({e})") from e
    if not isinstance(data, dict):
        raise FolderRefused(f"{path}: the manifest is not a JSON object")
    fmt, version = data.get("format"), data.get("version")
    if fmt != FORMAT_NAME:
        raise FolderRefused(f"{path}: format {fmt!r} is not {FORMAT_NAME!r}")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise FolderRefused(
            f"{path}: version {version!r} is not supported (this ChainLens reads version "
            f"{FORMAT_VERSION} and older)"
        )
    created_at = data.get("created_at")
    if created_at is not None:
        try:
            to_timestamp(created_at)
        except BadValue as e:
            raise FolderRefused(f"{path}: created_at {e}") from e
    counts = data.get("counts") or {}
    return Manifest(
        format=fmt, version=version, generator=data.get("generator"), seed=data.get("seed"),
        created_at=created_at, counts=dict(counts) if isinstance(counts, dict) else {},
    )  # fmt: skip
