"""Field accuracy on generated pages, beside a plain baseline on the same recognised text.

A field counts as right when its accepted value (not marked for review) equals the truth;
`wrong` counts accepted values that differ (the dangerous case), `review` the fields a
person must look at. The baseline reads the same RapidOCR lines, joined in reading order,
with one plain regular expression per field and no layout, checks or review.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from documents.fields import DocumentKind, Extraction, extract
from documents.lexicon import Lexicon, scope_lexicon
from documents.ocr import Line, Recogniser, load_pages, read
from documents.synth import Sample


@dataclass(slots=True)
class FieldScore:
    right: int = 0
    wrong: int = 0
    review: int = 0
    baseline_right: int = 0

    @property
    def n(self) -> int:
        return self.right + self.wrong + self.review


@dataclass(slots=True)
class Report:
    pages: int = 0
    ocr_seconds: float = 0.0
    fields: dict[str, FieldScore] = field(default_factory=dict)
    uscc_exact: int = 0
    uscc_pages: int = 0
    methods: dict[str, int] = field(default_factory=dict)  # pages read each way

    def accuracy(self, name: str) -> float:
        s = self.fields[name]
        return s.right / s.n if s.n else 0.0

    def baseline_accuracy(self, name: str) -> float:
        s = self.fields[name]
        return s.baseline_right / s.n if s.n else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "pages": self.pages,
            "seconds_per_page": round(self.ocr_seconds / max(self.pages, 1), 2),
            "uscc_exact": round(self.uscc_exact / max(self.uscc_pages, 1), 4),
            "read": dict(sorted(self.methods.items())),
            "fields": {
                n: {
                    "accuracy": round(self.accuracy(n), 4),
                    "wrong": s.wrong,
                    "review": s.review,
                    "baseline_accuracy": round(self.baseline_accuracy(n), 4),
                }
                for n, s in sorted(self.fields.items())
            },
        }


def platform_lexicon() -> Lexicon:
    """The lexicon an upload gets on a world `chainlens generate` made: the standard scope
    phrases and the goods of its chains (the `Goods` names ingest loads)."""
    from ingest.synthetic.chains import GOODS

    return scope_lexicon(g.name for g in GOODS)


def _money(raw: str) -> str:
    return f"{Decimal(raw.replace(',', '')):.2f}"


def baseline(kind: DocumentKind, lines: list[Line]) -> dict[str, str]:
    """Plain regular expressions over the raw text, first (or n-th) match wins."""
    text = unicodedata.normalize("NFKC", "\n".join(ln.text for ln in lines))
    out: dict[str, str] = {}

    def grab(name: str, pattern: str, nth: int = 0, conv: Callable[[Any], str] = str) -> None:
        found = re.findall(pattern, text)
        if len(found) > nth:
            out[name] = conv(found[nth])

    date = r"(\d{4})年(\d{1,2})月(\d{1,2})日"

    def iso(m: Iterable[str]) -> str:
        y, mo, d = (int(x) for x in m)
        return f"{y:04d}-{mo:02d}-{d:02d}"

    if kind is DocumentKind.LICENCE:
        grab("uscc", r"[0-9A-Z]{18}")
        grab("name", r"名称[:\s]*(\S+)")
        grab("legal_form", r"类型[:\s]*(\S+)")
        grab("legal_rep", r"法定代表人[:\s]*(\S+)")
        grab("registered_capital", r"注册资本[:\s]*\D*?(\d+)万", conv=lambda s: s + "0000")
        grab("founded_on", r"成立日期[:\s]*" + date, conv=iso)
        grab("address", r"住所[:\s]*(\S+)")
        grab("business_scope", r"经营范围[:\s]*(\S+)")  # its first line only: no layout
    else:
        grab("code", r"发票代码[:\s]*(\d+)")
        grab("number", r"发票号码[:\s]*(\d+)")
        grab("issued_on", r"开票日期[:\s]*" + date, conv=iso)
        grab("buyer_name", r"名称[:\s]*(\S+)", 0)
        grab("seller_name", r"名称[:\s]*(\S+)", 1)
        grab("buyer_tax_id", r"纳税人识别号[:\s]*([0-9A-Z]{18})", 0)
        grab("seller_tax_id", r"纳税人识别号[:\s]*([0-9A-Z]{18})", 1)
        grab("amount", r"¥\s*(\d[\d,]*\.\d{2})", 0, _money)
        grab("tax", r"¥\s*(\d[\d,]*\.\d{2})", 1, _money)
        grab("total", r"¥\s*(\d[\d,]*\.\d{2})", 2, _money)
        grab("check_code", r"校验码[:\s]*(\d[\d ]{18,}\d)", conv=lambda s: s.replace(" ", ""))
    return out


def score(
    samples: Iterable[Sample],
    recogniser: Recogniser | None = None,
    on_page: Callable[[Sample, Extraction], None] | None = None,
    text_layer: bool = False,
    lexicon: Lexicon | None = None,
) -> Report:
    """Score the layout rules and the baseline on ``samples``. Each page is recognised
    (`ocr_seconds`: the recognition alone), or with ``text_layer`` read as an upload is
    (`documents.ocr.read`: a PDF's text layer where it has one; `ocr_seconds` is then the
    whole reading). The recogniser's doubts are settled with ``lexicon``, by default
    `platform_lexicon` (what an upload to a generated world uses)."""
    rec = recogniser or Recogniser()
    lexicon = platform_lexicon() if lexicon is None else lexicon
    report = Report()
    for s in samples:
        if text_layer:
            reading = read(s.image, rec)
            lines, methods = reading.lines, [str(m) for m in reading.methods]
            report.ocr_seconds += reading.seconds
        else:
            _, pages = load_pages(s.image)
            start = time.perf_counter()
            lines = [ln for page in pages for ln in rec.lines(page)]
            report.ocr_seconds += time.perf_counter() - start
            methods = ["ocr"] * len(pages)
        for m in methods:
            report.methods[m] = report.methods.get(m, 0) + 1
        report.pages += 1
        ex = extract(s.kind, lines, methods, lexicon)
        base = baseline(s.kind, lines)
        for name, truth in s.truth.items():
            fs = report.fields.setdefault(name, FieldScore())
            f = ex.fields[name]
            if f.needs_review:
                fs.review += 1
            elif f.value == truth:
                fs.right += 1
            else:
                fs.wrong += 1
            fs.baseline_right += base.get(name) == truth
        if s.kind is DocumentKind.LICENCE:
            report.uscc_pages += 1
            report.uscc_exact += ex.accepted("uscc") == s.truth["uscc"]
        if on_page is not None:
            on_page(s, ex)
    return report
