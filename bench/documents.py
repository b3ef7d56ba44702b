"""Document OCR: pages per second and field accuracy, against RapidOCR's raw text read with
plain regular expressions in the same run (issue #22).

N pages (licences and invoices alternately, rendered by `documents.synth` with a stamp over
text, rotated up to ±3°, blurred, JPEG quality 60 at 150 dpi) are recognised once; the layout
rules (`documents.fields`) and the baseline (`documents.evaluate.baseline`) both read the
same lines. A field is right when its accepted value equals the truth; fields marked for a
person count as not right. The headline ratio is our mean field accuracy / the baseline's
(higher is better). Full size 200 pages; --quick 20.

Then the same number of PDFs with a text layer (licences printed to PDF and e-invoices, laid
out by WeasyPrint, undamaged) are read as uploads are (`documents.ocr.read`): from the text
layer, no OCR. Their field accuracy and pages per second are printed apart
(`--text-pages 0` skips them).

    .venv/bin/python bench/documents.py [--quick] [--pages N] [--seed S] [--text-pages N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from documents.evaluate import score
from documents.fields import Extraction
from documents.synth import Sample, make_samples, make_text_pdfs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 pages instead of 200")
    parser.add_argument("--pages", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--text-pages", type=int, default=None, help="default: as --pages")
    args = parser.parse_args()
    n = args.pages or (20 if args.quick else 200)
    n_text = n if args.text_pages is None else args.text_pages

    start = time.perf_counter()
    samples = make_samples(n, seed=args.seed)
    made_s = time.perf_counter() - start
    print(f"made {n} pages in {made_s:.1f}s", flush=True)

    done = [0]

    def progress(s: Sample, ex: Extraction) -> None:
        done[0] += 1
        wrong = [
            f"{k}: {ex.fields[k].accepted!r} ({ex.fields[k].confidence}) for {v!r}"
            for k, v in s.truth.items()
            if ex.fields[k].accepted not in (None, v)
        ]
        if wrong or done[0] % 10 == 0:
            print(f"  page {done[0]}/{n} {s.kind}: wrong {wrong} review {ex.for_review}",
                  flush=True)  # fmt: skip

    report = score(samples, on_page=progress)
    out = report.as_dict()
    ours = statistics.fmean(report.accuracy(f) for f in report.fields)
    base = statistics.fmean(report.baseline_accuracy(f) for f in report.fields)
    for name, s in out["fields"].items():  # type: ignore[attr-defined]
        print(f"{name:20s} accuracy {s['accuracy']:.4f}  wrong {s['wrong']:3d}  "
              f"review {s['review']:3d}  baseline {s['baseline_accuracy']:.4f}")  # fmt: skip
    print(
        f"USCC exact {out['uscc_exact']}; {out['seconds_per_page']} s per page "
        f"({1 / max(float(out['seconds_per_page']), 1e-9):.3f} pages/s)"
    )  # type: ignore[arg-type]
    out.update(
        quick=args.quick,
        seed=args.seed,
        mean_field_accuracy=round(ours, 4),
        baseline_mean_field_accuracy=round(base, 4),
        min_field_accuracy=round(min(report.accuracy(f) for f in report.fields), 4),
        ratio=round(ours / base, 3) if base else None,
    )
    if n_text:
        out["text_layer"] = text_layer_run(n_text, args.seed)
    print(json.dumps(out, ensure_ascii=False))


def text_layer_run(n: int, seed: int) -> dict[str, object]:
    """``n`` text-layer PDFs read as uploads are; accuracy per field and pages per second."""
    start = time.perf_counter()
    samples = make_text_pdfs(n, seed=seed)
    print(f"made {n} text-layer PDFs in {time.perf_counter() - start:.1f}s", flush=True)
    report = score(samples, text_layer=True)
    out = report.as_dict()
    fields = out["fields"]
    assert isinstance(fields, dict)
    for name, s in fields.items():
        print(f"text layer {name:20s} accuracy {s['accuracy']:.4f}  wrong {s['wrong']:3d}  "
              f"review {s['review']:3d}")  # fmt: skip
    per_page = report.ocr_seconds / max(report.pages, 1)
    print(f"text layer: read {out['read']}; {per_page * 1000:.1f} ms per page "
          f"({1 / max(per_page, 1e-9):.1f} pages/s); USCC exact {out['uscc_exact']}")  # fmt: skip
    out.update(
        ms_per_page=round(per_page * 1000, 2),
        pages_per_second=round(1 / max(per_page, 1e-9), 1),
        min_field_accuracy=round(min(report.accuracy(f) for f in report.fields), 4),
    )
    return out


if __name__ == "__main__":
    main()
