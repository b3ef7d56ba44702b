"""Fields from recognised lines, by layout rules.

A field is found by its printed label (名称, 统一社会信用代码, 发票号码, ...): its value is
the rest of the label's line, or the nearest line to the right on the same row. The invoice's
buyer and seller blocks repeat the same labels and are told apart by the nearer of the
购买方 / 销售方 headers; the amounts are the money figures on the 合计 row (the first is the
amount, the last the tax) and after 小写 (the total).

Every value is parsed into a canonical form (dates `YYYY-MM-DD`, money in yuan with two
decimals, registered capital in whole yuan) and checked: a USCC by its check character, an
invoice by amount + tax = total. A field whose recogniser confidence is under
`REVIEW_BELOW`, or that fails its check, is marked for a person with the reason, and its
value is never used as a fact: nothing is guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from documents.lexicon import Lexicon, settle_all
from documents.ocr import Line
from entity_resolution.uscc import UsccProblem, repair_uscc, validate_uscc

# Under this recogniser confidence a field goes to a person. The score is RapidOCR's mean
# over the line's characters, so a single misread character can still score above it (two
# such values in the 200-page bench run; docs/documents.md).
REVIEW_BELOW = 0.95
# A value that passes an independent check (a USCC's check character; amount + tax equal to
# the total, three figures read apart) is accepted down to this confidence.
CHECKED_BELOW = 0.80
# A value over several lines (a business scope) has the mean confidence over its characters,
# as a line has; one of its lines read under this sends it to a person whatever the mean.
SCOPE_LINE_BELOW = 0.85


class DocumentKind(StrEnum):
    LICENCE = "licence"  # 营业执照
    INVOICE = "invoice"  # 增值税发票
    CONTRACT = "contract"  # a trade contract for review (documents/review.py); no layout fields


@dataclass(frozen=True, slots=True)
class Field:
    """One extracted field: the canonical value (None when it could not be read or parsed),
    the text it was read from, the recogniser's confidence, and whether a person must look."""

    name: str
    value: str | None
    raw: str
    confidence: float
    needs_review: bool
    reason: str = ""

    @property
    def accepted(self) -> str | None:
        """The value when it may be used as a fact, else None."""
        return None if self.needs_review else self.value


@dataclass(frozen=True, slots=True)
class Extraction:
    """The fields of one document, and how each of its pages was read (`text_layer` or
    `ocr`, from `documents.ocr.read`; empty when the caller did not say)."""

    kind: DocumentKind
    fields: dict[str, Field] = field(default_factory=dict)
    read: tuple[str, ...] = ()

    def accepted(self, name: str) -> str | None:
        f = self.fields.get(name)
        return f.accepted if f is not None else None

    @property
    def for_review(self) -> list[str]:
        return sorted(n for n, f in self.fields.items() if f.needs_review)


LICENCE_FIELDS = (
    "name", "uscc", "legal_form", "legal_rep", "registered_capital", "founded_on", "address",
    "business_scope",
)  # fmt: skip
INVOICE_FIELDS = (
    "code", "number", "issued_on", "buyer_name", "buyer_tax_id", "seller_name",
    "seller_tax_id", "amount", "tax", "total", "check_code",
)  # fmt: skip

# --------------------------------------------------------------------------------------
# Text clean-up and value parsers: (canonical value or None, reason when None)
# --------------------------------------------------------------------------------------

_CJK = r"\u4e00-\u9fff"
_DASH_IN_CJK = re.compile(rf"(?<=[{_CJK}])[-—_~](?=[{_CJK}\d])")


def clean(text: str) -> str:
    """NFKC (full-width to half-width, ￥ to ¥), no spaces, and a dash between Chinese
    characters read as 一, which the recogniser confuses with it."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"\s+", "", t)
    return _DASH_IN_CJK.sub("一", t)


Parser = Callable[[str], tuple[str | None, str]]


def parse_date(raw: str) -> tuple[str | None, str]:
    m = re.search(r"(\d{4})[年\-./](\d{1,2})[月\-./](\d{1,2})日?", raw)
    if not m:
        return None, "no date in the text"
    y, mo, d = (int(x) for x in m.groups())
    try:
        import datetime as dt

        return dt.date(y, mo, d).isoformat(), ""
    except ValueError:
        return None, f"{m.group(0)} is not a date"


_MONEY = re.compile(r"-?\d[\d,]*\.\d{2}(?!\d)")


def parse_money(raw: str) -> tuple[str | None, str]:
    m = _MONEY.search(raw)
    if not m:
        return None, "no amount with two decimals in the text"
    try:
        return f"{Decimal(m.group(0).replace(',', '')):.2f}", ""
    except InvalidOperation:
        return None, f"{m.group(0)} is not an amount"


def parse_capital(raw: str) -> tuple[str | None, str]:
    m = re.search(r"(\d+(?:\.\d+)?)万", raw)
    if m:
        return str(int(Decimal(m.group(1)) * 10_000)), ""
    m = re.search(r"(\d[\d,]*)(?:\.\d+)?元", raw)
    if m:
        return m.group(1).replace(",", ""), ""
    return None, "no capital in 万元 or 元"


def parse_uscc(raw: str) -> tuple[str | None, str]:
    """A valid USCC, or one whose confusable letters (O for 0, ...) read as digits give a
    valid code. A well-formed code with a wrong check character is returned with its
    reason, so that a forgery is reported as such."""
    code = re.sub(r"[^0-9A-Za-z]", "", raw).upper()
    check = validate_uscc(code)
    if check.ok:
        return check.code, ""
    fixed = repair_uscc(code)
    if fixed:
        return fixed, ""
    if check.problem is UsccProblem.CHECK_CHARACTER:
        return check.code, f"uscc {check.problem}: {check.detail}"
    return None, f"uscc {check.problem}: {check.detail}"


def _digits(n: tuple[int, ...], what: str) -> Parser:
    def parse(raw: str) -> tuple[str | None, str]:
        d = re.sub(r"\D", "", raw)
        if len(d) in n:
            return d, ""
        return None, f"{what} has {'/'.join(map(str, n))} digits, read {len(d)}"

    return parse


def _chinese(min_len: int, max_len: int) -> Parser:
    def parse(raw: str) -> tuple[str | None, str]:
        t = raw.strip(":：;,.")
        if not re.fullmatch(rf"[{_CJK}()（）\d\-一·A-Za-z号]+", t):
            return None, "unexpected characters"
        if not min_len <= len(t) <= max_len:
            return None, f"{len(t)} characters, expected {min_len} to {max_len}"
        return t, ""

    return parse


_SCOPE_CHARS = re.compile(rf"[{_CJK}\dA-Za-z、,;:.。()《》“”\"'\-—/·+%]+")


# The standard sentence that closes a business scope (in the clean form).
_SCOPE_CLOSING = re.compile(r"\((?:除)?依法须经批准的项目")


def parse_scope(raw: str) -> tuple[str | None, str]:
    """A business scope (经营范围): the lines of its block joined, in the clean form (NFKC, no
    spaces), which keeps every character read, punctuation included. Its brackets must
    pair up, and its items end with 。 before the standard closing sentence (（依法须经批准的
    项目…）); a scope that does not is kept for a person."""
    t = raw.strip()
    if not _SCOPE_CHARS.fullmatch(t):
        return None, "unexpected characters"
    if t.count("(") != t.count(")"):
        # A bracket opened and not closed (or the reverse): a piece of a line, often a lone
        # closing bracket wrapped onto a line of its own, was not read.
        return None, f"{t.count('(')} opening and {t.count(')')} closing brackets"
    if not 4 <= len(t) <= 1000:
        return None, f"{len(t)} characters, expected 4 to 1000"
    m = _SCOPE_CLOSING.search(t)
    if m and m.start() > 0 and t[m.start() - 1] != "。":
        # The items end with 。 before the standard closing sentence; a 。 at the end of a
        # line is easily not seen.
        return t, f"no 。 before {m.group(0)}…: a mark may be missing"
    return t, ""


_LEGAL_FORM = re.compile(
    "(有限责任公司|股份有限公司|合伙企业|个人独资企业|农民专业合作社|个体工商户|"
    "全民所有制|集体所有制|外商投资企业|分公司)"
)


def parse_legal_form(raw: str) -> tuple[str | None, str]:
    m = _LEGAL_FORM.search(raw)
    return (raw, "") if m else (None, "not a known legal form")


# --------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    raw: str
    score: float
    line: Line
    doubts: tuple[str, ...] = ()  # where the recogniser hesitated in the value, in words


def _doubted(ln: Line, start: int = 0) -> tuple[str, ...]:
    """``ln``'s strong doubts (`documents.ocr.Doubt`) from position ``start`` of its clean
    text on: those in a value, not in its label. A weak one the lexicon did not settle is let
    be."""
    return tuple(
        d.describe(ln.text) for d in ln.doubts if d.strong and len(clean(ln.text[: d.at])) >= start
    )


def _rest(ln: Line, rest: str) -> _Found:
    """The rest of a label's line as a value."""
    return _Found(rest, ln.score, ln, _doubted(ln, len(clean(ln.text)) - len(rest)))


def _whole(ln: Line) -> _Found:
    return _Found(clean(ln.text), ln.score, ln, _doubted(ln))


def _labelled(lines: Sequence[Line], labels: Sequence[str]) -> list[tuple[Line, str]]:
    """Lines starting with one of ``labels`` (spaces ignored), with the text after it."""
    out = []
    for ln in lines:
        t = clean(ln.text)
        for label in labels:
            i = t.find(label)
            if 0 <= i <= 2:
                out.append((ln, t[i + len(label) :].lstrip(":：")))
                break
    return out


def _right_of(lines: Sequence[Line], ln: Line, gap: float = 700) -> list[Line]:
    """Lines on ``ln``'s row to its right, nearest first."""
    tol = max(ln.height, 20) * 0.6
    row = [o for o in lines if o is not ln and abs(o.cy - ln.cy) < tol and ln.x1 - 5 < o.x0]
    return sorted((o for o in row if o.x0 - ln.x1 < gap), key=lambda o: o.x0)


def _value(lines: Sequence[Line], ln: Line, rest: str) -> _Found | None:
    if rest:
        return _rest(ln, rest)
    right = _right_of(lines, ln)
    if right:
        return _whole(right[0])
    return None


def _field(name: str, found: _Found | None, parse: Parser, checked: bool = False) -> Field:
    """The field from what was found. A value read under `REVIEW_BELOW`, or one the
    recogniser doubted a character of, goes to a person, unless ``checked``: its parser
    checks it independently (a USCC's check character catches any one character misread),
    and it is accepted down to `CHECKED_BELOW` whatever the doubts."""
    floor = CHECKED_BELOW if checked else REVIEW_BELOW
    if found is None:
        return Field(name, None, "", 0.0, True, "not found on the page")
    value, why = parse(found.raw)
    conf = round(found.score, 4)
    if value is None:
        return Field(name, None, found.raw, conf, True, why)
    if why:
        return Field(name, value, found.raw, conf, True, why)
    if conf < floor:
        return Field(name, value, found.raw, conf, True, f"confidence {conf} < {floor}")
    if found.doubts and not checked:
        return Field(name, value, found.raw, conf, True, f"doubted: {'; '.join(found.doubts)}")
    return Field(name, value, found.raw, conf, False)


def _first(lines: Sequence[Line], labels: Sequence[str]) -> _Found | None:
    for ln, rest in _labelled(lines, labels):
        found = _value(lines, ln, rest)
        if found is not None:
            return found
    return None


# Labels that end a business scope's block: any other field of a licence, and what is
# printed below the scope on one (the registering authority, the term of operation).
_LICENCE_LABELS = (
    "名称", "统一社会信用代码", "类型", "法定代表人", "负责人", "经营者", "执行事务合伙人",
    "注册资本", "出资额", "成立日期", "注册日期", "营业期限", "经营期限", "合伙期限", "住所",
    "经营场所", "主要经营场所", "登记机关", "注册号", "经营范围",
)  # fmt: skip


def _run(first: Line, row: Sequence[Line], h: float) -> list[Line]:
    """``first`` and the boxes after it on its row, while each starts within two character
    heights of the one before (one line of print the recogniser cut in pieces)."""
    out = [first]
    for o in sorted((o for o in row if o.x0 > first.x0 and o is not first), key=lambda o: o.x0):
        if o.x0 - out[-1].x1 > 2 * h:
            break
        out.append(o)
    return out


def _is_label(text: str, label: str) -> bool:
    """Whether ``text`` is ``label`` alone or followed by a colon (营业期限：长期), near its
    start: a line of a scope that merely begins with the words (名称变更…) is not one."""
    i = text.find(label)
    return 0 <= i <= 2 and text[i + len(label) :][:1] in ("", ":")


def _block(
    lines: Sequence[Line], labels: Sequence[str], stops: Sequence[str]
) -> tuple[_Found, float] | None:
    """A value that may wrap over several lines (a business scope): its first line (the rest
    of the label's line or the line to its right, with any piece of it the recogniser cut
    off), then each row below in the value's column, until a gap of more than a line, a row
    that starts left of the column (the next field's label) or a row that starts with one
    of ``stops``. Its confidence is the mean over its characters, as a line's is; returned
    with the lowest of its lines' confidences."""
    for ln, rest in _labelled(lines, labels):
        first = _value(lines, ln, rest)
        if first is None:
            continue
        head = first.line
        h = max(head.height, 10.0)
        col0 = ln.x0 if head is ln else head.x0
        run = _run(head, _right_of(lines, head), h)
        col1 = run[-1].x1
        parts = [first.raw, *(clean(o.text) for o in run[1:])]
        doubts = [*first.doubts, *(d for o in run[1:] for d in _doubted(o))]
        scores = [(len(first.raw), first.score)]
        scores += [(len(clean(o.text)), o.score) for o in run[1:]]
        bottom = max(o.y1 for o in run)
        below = sorted(
            (o for o in lines if o.cy > head.cy + 0.5 * h and o.x0 < col1), key=lambda o: o.cy
        )
        rows: list[list[Line]] = []
        for o in below:
            if rows and abs(o.cy - rows[-1][0].cy) < 0.5 * h:
                rows[-1].append(o)
            else:
                rows.append([o])
        for row in rows:
            left = min(row, key=lambda o: o.x0)
            pieces = _run(left, row, h)
            text = "".join(clean(o.text) for o in pieces)
            if min(o.y0 for o in pieces) - bottom > 0.8 * h or left.x0 < col0 - h:
                break
            if any(_is_label(text, s) for s in stops):
                break
            parts.append(text)
            doubts += [d for o in pieces for d in _doubted(o)]
            scores += [(len(clean(o.text)), o.score) for o in pieces]
            bottom = max(o.y1 for o in pieces)
        n = sum(k for k, _ in scores) or 1
        mean = sum(k * sc for k, sc in scores) / n
        found = _Found("".join(parts), mean, head, tuple(doubts))
        return found, min(sc for _, sc in scores)
    return None


def extract_licence(lines: Sequence[Line]) -> Extraction:
    specs: list[tuple[str, tuple[str, ...], Parser]] = [
        ("name", ("名称",), _chinese(4, 60)),
        ("uscc", ("统一社会信用代码",), parse_uscc),
        ("legal_form", ("类型",), parse_legal_form),
        ("legal_rep", ("法定代表人", "负责人", "经营者", "执行事务合伙人"), _chinese(2, 6)),
        ("registered_capital", ("注册资本", "出资额"), parse_capital),
        ("founded_on", ("成立日期", "注册日期"), parse_date),
        ("address", ("住所", "经营场所", "主要经营场所"), _chinese(4, 80)),
    ]
    fields = {
        n: _field(n, _first(lines, labels), p, checked=p is parse_uscc) for n, labels, p in specs
    }
    block = _block(lines, ("经营范围",), _LICENCE_LABELS)
    scope = _field("business_scope", block[0] if block else None, parse_scope)
    if block and not scope.needs_review and block[1] < SCOPE_LINE_BELOW:
        why = f"a line read with confidence {round(block[1], 4)} < {SCOPE_LINE_BELOW}"
        scope = replace(scope, needs_review=True, reason=why)
    fields["business_scope"] = scope
    return Extraction(DocumentKind.LICENCE, fields)


def _party(
    lines: Sequence[Line], label: str, headers: dict[str, float], side: str
) -> _Found | None:
    """The ``label`` line of the block whose header (购买方 or 销售方) is nearest."""
    candidates = []
    for ln, rest in _labelled(lines, (label,)):
        nearest = min(headers, key=lambda h: abs(headers[h] - ln.cy)) if headers else ""
        candidates.append((ln, rest, nearest))
    if not candidates:
        return None
    if len(headers) == 2:
        mine = [(ln, rest) for ln, rest, h in candidates if h == side]
    else:  # no headers read: the buyer's block is above the seller's
        ordered = sorted(candidates, key=lambda c: c[0].cy)
        pick = ordered[0] if side == "buyer" else ordered[-1]
        mine = [(pick[0], pick[1])] if len(ordered) > 1 else []
    for ln, rest in mine:
        found = _value(lines, ln, rest)
        if found is not None:
            return found
    return None


def _money_on_row(lines: Sequence[Line], label: str) -> list[_Found]:
    for ln, rest in _labelled(lines, (label,)):
        out = [_rest(ln, rest)] if _MONEY.search(rest) else []
        out += [_whole(o) for o in _right_of(lines, ln, gap=2000) if _MONEY.search(clean(o.text))]
        if out:
            return out
    return []


def extract_invoice(lines: Sequence[Line]) -> Extraction:
    headers: dict[str, float] = {}
    for ln in lines:
        t = clean(ln.text)
        if "购买方" in t or "购货单位" in t:
            headers.setdefault("buyer", ln.cy)
        elif "销售方" in t or "销货单位" in t:
            headers.setdefault("seller", ln.cy)
    fields = {
        "code": _field("code", _first(lines, ("发票代码",)), _digits((10, 12), "an invoice code")),
        "number": _field("number", _first(lines, ("发票号码",)), _digits((8, 20), "a number")),
        "issued_on": _field("issued_on", _first(lines, ("开票日期",)), parse_date),
    }
    for side in ("buyer", "seller"):
        fields[f"{side}_name"] = _field(
            f"{side}_name", _party(lines, "名称", headers, side), _chinese(4, 60)
        )
        fields[f"{side}_tax_id"] = _field(
            f"{side}_tax_id",
            _party(lines, "纳税人识别号", headers, side),
            parse_uscc,
            checked=True,
        )
    row = _money_on_row(lines, "合计")
    fields["amount"] = _field("amount", row[0] if len(row) >= 2 else None, parse_money)
    fields["tax"] = _field("tax", row[-1] if len(row) >= 2 else None, parse_money)
    total = _first(lines, ("(小写)", "小写"))
    if total is None:
        for found in _money_on_row(lines, "价税合计"):
            total = found
    fields["total"] = _field("total", total, parse_money)
    fields["check_code"] = _check_code(lines)
    return Extraction(DocumentKind.INVOICE, _check_sum(fields))


def _check_code(lines: Sequence[Line]) -> Field:
    """The check code (校验码): 20 digits, printed in groups that the recogniser may read as
    one line or as several boxes on the label's row; the digit groups on that row are
    joined. A special VAT invoice (专用发票) on paper prints none: then the field is empty
    and not for review."""
    for ln, rest in _labelled(lines, ("校验码",)):
        parts = [_rest(ln, rest)] if rest else []
        for o in _right_of(lines, ln):
            t = clean(o.text)
            digits = sum(ch.isdigit() for p in parts for ch in p.raw)
            if digits >= 20 or not re.fullmatch(r"[\d:]+", t):
                break
            parts.append(_whole(o))
        if parts:
            found = _Found(
                "".join(p.raw for p in parts), min(p.score for p in parts), parts[0].line,
                tuple(d for p in parts for d in p.doubts),
            )  # fmt: skip
            return _field("check_code", found, _digits((20,), "a check code"))
    title = "".join(clean(ln.text) for ln in lines)
    if "专用发票" in title:
        return Field("check_code", None, "", 0.0, False, "a special VAT invoice prints none")
    return _field("check_code", None, _digits((20,), "a check code"))


def _check_sum(fields: dict[str, Field]) -> dict[str, Field]:
    """Amount + tax must equal the total; when they do not, none of the three is a fact.
    When they do, the three were read apart and agree: each is accepted down to
    CHECKED_BELOW."""
    names = ("amount", "tax", "total")
    a, t, s = (fields[n].value for n in names)
    if a is None or t is None or s is None:
        return fields
    out = dict(fields)
    if Decimal(a) + Decimal(t) == Decimal(s):
        if all(fields[n].confidence >= CHECKED_BELOW for n in names):
            for n in names:
                f = out[n]
                if f.needs_review and f.reason.startswith(("confidence", "doubted")):
                    out[n] = Field(f.name, f.value, f.raw, f.confidence, False)
        return out
    why = f"amount {a} + tax {t} is not the total {s}"
    for n in ("amount", "tax", "total"):
        f = out[n]
        out[n] = Field(f.name, f.value, f.raw, f.confidence, True, why)
    return out


def extract(
    kind: DocumentKind, lines: Sequence[Line], read: Sequence[str] = (),
    lexicon: Lexicon | None = None,
) -> Extraction:  # fmt: skip
    """The fields of a ``kind`` page; ``read`` says how each page was read (text layer or
    OCR, `documents.ocr.read`) and is kept on the extraction. The recogniser's doubts that
    ``lexicon`` resolves are resolved first (`documents.lexicon`); a field with a doubt
    left goes to a person."""
    lines = settle_all(lines, lexicon)
    ex = extract_licence(lines) if kind is DocumentKind.LICENCE else extract_invoice(lines)
    return replace(ex, read=tuple(str(m) for m in read))


def detect_kind(lines: Sequence[Line]) -> DocumentKind | None:
    """Which document the page is, by its title and labels; None when neither."""
    text = "".join(clean(ln.text) for ln in lines)
    if "营业执照" in text or "统一社会信用代码" in text:
        return DocumentKind.LICENCE
    if "发票" in text and ("纳税人识别号" in text or "发票号码" in text):
        return DocumentKind.INVOICE
    return None
