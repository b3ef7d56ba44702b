"""Ingest fixtures: the hand-made folder `fixtures/good` (every file, known answers) copied
into a temporary folder per test, and a small generated chain for the crash tests, whose
expected graph is computed here independently of the loader."""

from __future__ import annotations

import csv
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def good_folder(tmp_path: Path) -> Path:
    """A writable copy of `fixtures/good` (the loader writes `_rejects/` beside the input)."""
    folder = tmp_path / "good"
    shutil.copytree(FIXTURES / "good", folder)
    return folder


@dataclass
class ChainFolder:
    path: Path
    nodes: dict[str, int] = field(default_factory=dict)
    rels: dict[str, int] = field(default_factory=dict)

    def expected_batches(self, batch_size: int) -> int:
        files = ("Enterprise", "Invoice", "Payment")
        return sum(-(-self.nodes[label] // batch_size) for label in files)


def write_chain(folder: Path, enterprises: int, invoices: int, seed: int = 1) -> ChainFolder:
    """Enterprises, invoices between them and payments of every second invoice."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "enterprises.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "registered_capital", "founded_on"])
        for i in range(enterprises):
            w.writerow([f"E{i}", f"企业{i}有限公司", 1_000_000 + i, "2015-01-01"])
    pairs: set[tuple[str, str]] = set()
    with (
        (folder / "invoices.csv").open("w", newline="") as f,
        (folder / "payments.csv").open("w", newline="") as p,
    ):
        w, wp = csv.writer(f), csv.writer(p)
        w.writerow(["id", "seller_id", "buyer_id", "amount", "issued_on"])
        wp.writerow(["id", "invoice_id", "payer_id", "payee_id", "amount", "paid_on"])
        payments = 0
        for i in range(invoices):
            s = rng.randrange(enterprises)
            b = (s + 1 + rng.randrange(enterprises - 1)) % enterprises
            amount = rng.randrange(1, 10_000_000)
            day = f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            w.writerow([f"I{i}", f"E{s}", f"E{b}", amount, day])
            pairs.add((f"E{s}", f"E{b}"))
            if i % 2 == 0:
                wp.writerow([f"PAY{i}", f"I{i}", f"E{b}", f"E{s}", amount, day])
                payments += 1
    return ChainFolder(
        folder,
        nodes={"Enterprise": enterprises, "Invoice": invoices, "Payment": payments},
        rels={
            "SELLER": invoices, "BUYER": invoices, "SETTLES": payments, "PAID_BY": payments,
            "PAID_TO": payments, "SUPPLIES": len(pairs),
        },
    )  # fmt: skip
