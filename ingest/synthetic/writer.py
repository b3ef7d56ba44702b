"""Streaming CSV output in the ingest format v1 (docs/ingest-format.md).

Rows go straight to disk through csv writers, so memory does not grow with the number of
invoices. The field lists below are the format's, in its order.
"""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path
from types import TracebackType
from typing import IO, Any

FIELDS: dict[str, tuple[str, ...]] = {
    "enterprises": ("id", "name", "name_en", "uscc", "legal_form", "region_code",
                    "industry_code", "registered_capital", "currency", "founded_on", "status",
                    "is_core", "address_id", "phone_id"),
    "persons": ("id", "name", "id_hash"),
    "addresses": ("id", "text", "region_code"),
    "phones": ("id", "number"),
    "goods": ("id", "name", "hs_code", "category", "unit"),
    "warehouses": ("id", "name", "operator_id", "region_code", "lat", "lon"),
    "contracts": ("id", "kind", "seller_id", "buyer_id", "amount", "currency", "signed_on",
                  "due_on", "status"),
    "invoices": ("id", "seller_id", "buyer_id", "contract_id", "goods_id", "qty", "amount", "tax",
                 "currency", "issued_on", "due_on", "status"),
    "shipments": ("id", "contract_id", "invoice_id", "goods_id", "from_id", "to_id", "qty",
                  "shipped_on", "received_on", "warehouse_id"),
    "payments": ("id", "invoice_id", "payer_id", "payee_id", "amount", "currency", "paid_on"),
    "assets": ("id", "kind", "owner_id", "goods_id", "warehouse_id", "quantity", "unit",
               "unit_value", "currency", "status"),
    "sensors": ("id", "kind", "asset_id", "warehouse_id", "installed_on"),
    "financings": ("id", "product_kind", "borrower_id", "lender", "amount", "outstanding",
                   "currency", "start_on", "maturity_on", "status"),
    "enterprise_records": ("record_id", "source", "name", "name_en", "uscc", "legacy_org_code",
                           "registration_no", "legal_form", "region_code", "address", "phone",
                           "legal_rep"),
    "holdings": ("holder_id", "holder_kind", "enterprise_id", "pct", "since"),
    "roles": ("person_id", "enterprise_id", "kind"),
    "guarantees": ("id", "guarantor_id", "guarantor_kind", "beneficiary_id", "amount",
                   "currency", "signed_on", "expires_on"),
    "goods_inputs": ("input_id", "output_id"),
    "pledges": ("id", "financing_id", "collateral_kind", "collateral_id", "pledged_on"),
}


class CsvSink:
    """One CSV file with a header, counting its rows."""

    def __init__(self, path: Path, fields: tuple[str, ...]) -> None:
        self.path = path
        self.fields = fields
        self._f: IO[str] = path.open("w", newline="", encoding="utf-8")
        self._w = csv.writer(self._f)
        self._w.writerow(fields)
        self.rows = 0

    def write(self, row: list[Any]) -> None:
        self._w.writerow(row)
        self.rows += 1

    def close(self) -> None:
        self._f.close()


class ShuffledCsvSink:
    """A CSV file whose rows land in random order, in bounded memory.

    Rows are spread over temporary bucket files and concatenated at the end, so that
    neighbouring rows (records of one firm) end up far apart without holding them all.
    """

    def __init__(
        self, path: Path, fields: tuple[str, ...], r: random.Random, buckets: int = 32
    ) -> None:
        self.path = path
        self.fields = fields
        self._r = r
        self._dir = path.parent / f".{path.stem}.buckets"
        self._dir.mkdir(exist_ok=True)
        self._files = [(self._dir / f"{k:03d}.csv").open("w", newline="", encoding="utf-8")
                       for k in range(buckets)]
        self._writers = [csv.writer(f) for f in self._files]
        self.rows = 0

    def write(self, row: list[Any]) -> None:
        self._writers[int(self._r.random() * len(self._writers))].writerow(row)
        self.rows += 1

    def close(self) -> None:
        for f in self._files:
            f.close()
        with self.path.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerow(self.fields)
            for f in self._files:
                with open(f.name, encoding="utf-8", newline="") as part:
                    shutil.copyfileobj(part, out)
        shutil.rmtree(self._dir)


class DataWriter:
    """All data files of one output folder, opened on first use."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir
        self._sinks: dict[str, CsvSink | ShuffledCsvSink] = {}

    def open_shuffled(self, name: str, r: random.Random) -> ShuffledCsvSink:
        sink = ShuffledCsvSink(self.dir / f"{name}.csv", FIELDS[name], r)
        self._sinks[name] = sink
        return sink

    def sink(self, name: str) -> CsvSink | ShuffledCsvSink:
        s = self._sinks.get(name)
        if s is None:
            s = self._sinks[name] = CsvSink(self.dir / f"{name}.csv", FIELDS[name])
        return s

    def counts(self) -> dict[str, int]:
        return {name: s.rows for name, s in sorted(self._sinks.items())}

    def close(self) -> None:
        for s in self._sinks.values():
            s.close()

    def __enter__(self) -> DataWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def money(value: float) -> str:
    return str(int(value))


def decimal_str(value: float, decimals: int) -> str:
    """A quantity as a decimal string without trailing zeros (12.500 -> 12.5)."""
    if decimals == 0:
        return str(round(value))
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text or "0"


def pct_str(bp: int) -> str:
    """Basis points as a percentage string: 5150 -> 51.5, 10000 -> 100."""
    whole, frac = divmod(bp, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") if frac else str(whole)
