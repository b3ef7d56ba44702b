"""Contract review: a contract's key elements read from its text and compared with what the
application or financing and the graph say (docs/documents.md#contract-review).

Text: a PDF's text layer is read directly (pdfium); a scanned PDF or an image goes through
the shared OCR (`documents.ocr`), its lines joined into rows. Elements are found by a spaCy
pipeline of rule components only: ``spacy.blank("zh")`` with its default character
segmenter (nothing downloaded) and an `EntityRuler` whose phrase and token patterns mark
role labels (甲方, 卖方, 债权人 ...), USCCs, amounts in figures and in upper-case numerals
(壹贰叁 ...), dates, assignment bans (禁止转让, 不得……转让 ...), governing-law, dispute and
payment keywords. The `contract_elements` component then reads each mark in its clause: a
date is the signing, start or maturity date by the words before it, an amount is the
contract's when a price label precedes it, a party's name is what follows its role label up
to the company's legal form.

Comparison (`compare`) lists each difference with the element, the contract's value, the
expected value and a severity; it is pure, so every rule is tested without a database.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any

from documents.errors import NotADocument, UnreadableFile
from documents.ocr import Line, MediaType, Recogniser, load_pages, recognise, sniff
from documents.pdfs import opened

# --------------------------------------------------------------------------------------
# The contract's text
# --------------------------------------------------------------------------------------

# A text layer with fewer CJK characters than this is a scan with a stray caption: OCR it.
_MIN_TEXT_LAYER_CJK = 20
MAX_CONTRACT_PAGES = 40


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF's pages ('' when it has none)."""
    return _pdf_text(data)[0]


def _pdf_text(data: bytes) -> tuple[str, int]:
    with opened(data, UnreadableFile) as pdf:
        if len(pdf) > MAX_CONTRACT_PAGES:
            raise UnreadableFile(f"a contract has at most {MAX_CONTRACT_PAGES} pages")
        parts = []
        for i in range(len(pdf)):
            tp = pdf[i].get_textpage()
            parts.append(tp.get_text_range())
            tp.close()
        return "\n".join(parts).replace("\r\n", "\n").replace("\r", "\n"), len(pdf)


def rows_of(lines: Sequence[Line]) -> str:
    """Recognised lines joined into rows of text, top to bottom (one row per line of print)."""
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda x: (x.cy, x.x0)):
        if rows and abs(ln.cy - rows[-1][0].cy) < 0.5 * max(ln.height, rows[-1][0].height):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return "\n".join(" ".join(x.text for x in sorted(r, key=lambda x: x.x0)) for r in rows)


def contract_text(data: bytes, recogniser: Recogniser | None = None) -> tuple[str, str, int]:
    """The contract's text, how it was read (`text_layer` or `ocr`) and its pages. A scan
    is read through `documents.ocr` (at most its `MAX_PAGES` pages)."""
    media = sniff(data)
    if media is MediaType.PDF:
        text, n = _pdf_text(data)
        if sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") >= _MIN_TEXT_LAYER_CJK:
            return text, "text_layer", n
    _, pages = load_pages(data)
    return rows_of(recognise(pages, recogniser)), "ocr", len(pages)


def is_contract(text: str) -> bool:
    """Whether the text reads as a contract: a title or clause word and two role labels."""
    t = _norm(text)
    return ("合同" in t or "协议" in t) and len(set(_ROLE_WORDS) & set(_role_hits(t))) >= 2


# --------------------------------------------------------------------------------------
# Money, dates, numerals
# --------------------------------------------------------------------------------------

CURRENCIES: dict[str, str] = {
    "人民币": "CNY", "RMB": "CNY", "CNY": "CNY", "¥": "CNY", "￥": "CNY",
    "美元": "USD", "USD": "USD", "US$": "USD", "欧元": "EUR", "EUR": "EUR",
    "港币": "HKD", "港元": "HKD", "HKD": "HKD",
}  # fmt: skip
_UPPER_DIGITS = {
    "零": 0, "〇": 0, "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5, "陆": 6,
    "陸": 6, "柒": 7, "捌": 8, "玖": 9, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
    "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_UPPER_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_UPPER_CHARS = set(_UPPER_DIGITS) | set(_UPPER_UNITS) | set("万萬亿億元圆角分整正")


def chinese_number(text: str) -> int | None:
    """An integer written in Chinese numerals (叁佰伍拾, 九十, 壹亿零伍佰万)."""
    total = section = number = 0
    seen = False
    for ch in text:
        if ch in _UPPER_DIGITS:
            number, seen = _UPPER_DIGITS[ch], True
        elif ch in _UPPER_UNITS:
            section += (number or 1) * _UPPER_UNITS[ch]
            number, seen = 0, True
        elif ch in "万萬":
            total += (section + number) * 10_000
            section = number = 0
        elif ch in "亿億":
            total = (total + section + number) * 100_000_000
            section = number = 0
        else:
            return None
    return total + section + number if seen else None


def upper_amount_minor(text: str) -> int | None:
    """An amount in upper-case numerals (壹佰贰拾万元整, 叁仟元伍角陆分) in minor units."""
    text = text.strip().rstrip("整正")
    if not text:
        return None
    m = re.search(r"[元圆]", text)
    if m is not None:
        whole, frac = text[: m.start()], text[m.end() :]
    elif re.search(r"[角分]", text):
        whole, frac = "", text
    else:
        whole, frac = text, ""
    value = chinese_number(whole) if whole else 0
    if value is None:
        return None
    minor = value * 100
    for m in re.finditer(r"([零壹贰叁肆伍陆柒捌玖一二三四五六七八九])([角分])", frac):
        minor += _UPPER_DIGITS[m.group(1)] * (10 if m.group(2) == "角" else 1)
    return minor


def figure_amount_minor(text: str) -> int | None:
    """An amount in figures (1,200,000.00; 120万元; 3.5亿) in minor units."""
    m = re.search(r"(\d[\d,，]*(?:\.\d+)?)\s*(万|亿)?", text)
    if m is None:
        return None
    try:
        value = Decimal(m.group(1).replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    value *= {"万": 10_000, "亿": 100_000_000}.get(m.group(2) or "", 1)
    return int(value * 100)


def _currency_in(text: str) -> str | None:
    for word, code in sorted(CURRENCIES.items(), key=lambda kv: -len(kv[0])):
        if word in text:
            return code
    return None


def parse_date(text: str) -> str | None:
    """`YYYY-MM-DD` from 2024年3月5日, 2024-03-05, 2024/3/5 or 2024.03.05."""
    m = re.search(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})", text)
    if m is None:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def _norm(text: str) -> str:
    """NFKC except the full-width punctuation the patterns read (：，（）), spaces inside a
    row of CJK text dropped (OCR splits a row into boxes)."""
    out = unicodedata.normalize("NFKC", text)
    out = out.replace(":", "：").replace("(", "（").replace(")", "）").replace(";", "；")
    out = re.sub(r"(?<=[\u4e00-\u9fff：（）])[ \t]+|[ \t]+(?=[\u4e00-\u9fff：（）])", "", out)
    # A figure or an upper-case amount wrapped onto the next line is one figure.
    upper = "".join(sorted(_UPPER_CHARS))
    out = re.sub(rf"(?<=[{upper}])\n(?=[{upper}])|(?<=[\d,.])\n(?=[\d,.])", "", out)
    return out


# --------------------------------------------------------------------------------------
# The spaCy pipeline
# --------------------------------------------------------------------------------------

# Role labels of the parties; a label is a party's when a colon or 简称 ties a name to it.
_ROLE_WORDS = (
    "甲方", "乙方", "丙方", "卖方", "买方", "出卖人", "买受人", "供方", "需方", "供货方",
    "采购方", "销售方", "购货方", "债权人", "债务人", "转让方", "受让方", "委托方", "受托方",
    "出租人", "承租人", "发包人", "承包人",
)  # fmt: skip
_AMOUNT_LABELS = ("合同金额", "合同总金额", "合同总价", "合同价款", "总价款", "总金额",
                  "价款合计", "货款总额", "合同总额", "金额合计", "总价", "价款")  # fmt: skip
_SIGN_WORDS = ("签订", "签署", "签约", "订立", "签字", "签定")
_DUE_WORDS = ("到期", "届满", "截止", "终止", "至", "止", "前付清", "最迟")
_START_WORDS = ("起", "自", "开始", "生效", "起始", "始于")
_BAN_PHRASES = (
    "禁止转让", "不得转让", "不可转让", "不得让与", "禁止让与", "不得以任何方式转让",
    "不得向第三方转让", "不得向任何第三方转让", "不得将本合同项下", "不得将其在本合同项下",
)  # fmt: skip
_DIGIT = {"TEXT": {"REGEX": r"^\d$"}}
_SEP = {"TEXT": {"IN": ["-", "/", "."]}}
_FIG = {"TEXT": {"REGEX": r"^[\d,，.]$"}, "OP": "+"}


def _chars(word: str) -> list[dict[str, Any]]:
    return [{"TEXT": ch} for ch in word]


def _patterns() -> list[dict[str, Any]]:
    pats: list[dict[str, Any]] = []
    pats += [{"label": "ROLE", "pattern": w, "id": w} for w in _ROLE_WORDS]
    pats.append(
        {"label": "USCC", "pattern": [{"TEXT": {"REGEX": r"^[0-9A-HJ-NPQRTUWXY]$"}, "OP": "{18}"}]}
    )
    cur_words = sorted(CURRENCIES, key=len, reverse=True)
    sp = {"IS_SPACE": True, "OP": "?"}
    for word in cur_words:
        pats.append({"label": "MONEY", "pattern": [*_chars(word), sp, _FIG]})
        pats.append({"label": "MONEY", "pattern": [*_chars(word), sp, _FIG, {"TEXT": "万"}]})
    pats.append(
        {
            "label": "MONEY",
            "pattern": [
                _FIG,
                {"TEXT": {"IN": ["万", "亿"]}, "OP": "?"},
                {"TEXT": {"IN": ["元", "圆"]}},
            ],
        }
    )
    pats.append(
        {
            "label": "MONEY_WORDS",
            "pattern": [
                {
                    "TEXT": {"IN": sorted(_UPPER_CHARS - set("一二三四五六七八九十百千两"))},
                    "OP": "{3,}",
                }
            ],
        }
    )
    for y, m in (("年", "月"),):
        pats.append(
            {
                "label": "DATE",
                "pattern": [
                    *[_DIGIT] * 4,
                    {"TEXT": y},
                    _DIGIT,
                    {"TEXT": {"REGEX": r"^\d$"}, "OP": "?"},
                    {"TEXT": m},
                    _DIGIT,
                    {"TEXT": {"REGEX": r"^\d$"}, "OP": "?"},
                    {"TEXT": "日"},
                ],
            }
        )
    pats.append(
        {
            "label": "DATE",
            "pattern": [
                *[_DIGIT] * 4,
                _SEP,
                _DIGIT,
                {"TEXT": {"REGEX": r"^\d$"}, "OP": "?"},
                _SEP,
                _DIGIT,
                {"TEXT": {"REGEX": r"^\d$"}, "OP": "?"},
            ],
        }
    )
    pats += [{"label": "ASSIGN_BAN", "pattern": p} for p in _BAN_PHRASES]
    # 未经……同意，……不得……转让 within one clause.
    pats.append(
        {
            "label": "ASSIGN_BAN",
            "pattern": [
                *_chars("不得"),
                {"TEXT": {"NOT_IN": ["。", "；", "\n"]}, "OP": "{0,24}"},
                {"TEXT": {"IN": ["转", "让"]}},
                {"TEXT": {"IN": ["让", "与"]}},
            ],
        }
    )
    pats += [{"label": "LAW", "pattern": p} for p in ("适用", "准据法", "法律管辖")]
    pats += [{"label": "DISPUTE", "pattern": p} for p in ("仲裁", "人民法院", "诉讼", "管辖")]
    pats += [{"label": "PAYMENT", "pattern": p} for p in ("付款", "支付", "结算", "账期", "付清")]
    return pats


@cache
def pipeline() -> Any:
    """The pipeline, built once per process: the blank Chinese tokenizer, the entity ruler,
    and `contract_elements`."""
    import spacy
    from spacy.language import Language

    if not Language.has_factory("contract_elements"):
        Language.component("contract_elements", func=_elements_component)
    nlp = spacy.blank("zh")
    ruler: Any = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "TEXT"})
    ruler.add_patterns(_patterns())
    nlp.add_pipe("contract_elements")
    return nlp


def _role_hits(text: str) -> list[str]:
    return [w for w in _ROLE_WORDS if w in text]


# --------------------------------------------------------------------------------------
# Elements
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Party:
    role: str
    name: str
    uscc: str | None = None


@dataclass(slots=True)
class ContractElements:
    """What a contract says, each element None (or empty) when it was not found."""

    parties: list[Party] = field(default_factory=list)
    amount_minor: int | None = None
    currency: str | None = None
    amount_in_words_minor: int | None = None  # the upper-case figure (大写), when written
    signed_on: str | None = None
    start_on: str | None = None
    due_on: str | None = None  # maturity: the end of the term or the last payment date
    payment_terms: str | None = None
    payment_days: int | None = None
    assignment_restricted: bool = False
    assignment_clause: str | None = None
    governing_law: str | None = None
    dispute_resolution: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContractElements:
        return cls(**{**d, "parties": [Party(**p) for p in d.get("parties") or []]})


_SUFFIX = re.compile(r"(股份有限公司|有限责任公司|有限公司|合伙企业（有限合伙）|合伙企业|"
                     r"集团公司|公司|厂|研究院|银行)")  # fmt: skip
_CLAUSE_END = "。；\n"
# What ties a name to a role label: a colon, after an optional gloss (（卖方）, Seller); or,
# in a table's text layer, the gloss and a line break.
_ROLE_TAIL = re.compile(
    r"(?:（[^）\n]{1,8}）)?[ \t]*(?:[A-Za-z][A-Za-z ]{0,14}?[ \t]*(?:：|\n|(?=[\u4e00-\u9fff]))"
    r"|：|\n)\s*"
)


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the clause (between 。；or line ends) around [start, end)."""
    lo = max(text.rfind(c, 0, start) for c in _CLAUSE_END) + 1
    his = [i for i in (text.find(c, end) for c in _CLAUSE_END) if i >= 0]
    return lo, min(his) if his else len(text)


def _party_name(after: str) -> str | None:
    """The firm's name at the start of ``after`` (what follows a role label's colon)."""
    line = after.split("\n", 1)[0].strip(" ：“”\"'")
    line = re.split(r"统一社会信用代码|社会信用代码|信用代码|纳税人识别号|地址|住所|法定代表人",
                    line)[0]  # fmt: skip
    m = None
    for m in _SUFFIX.finditer(line):
        if m.group(1) != "公司" or not line[: m.start()].endswith(("有限", "股份")):
            break
    name = line[: m.end()] if m is not None else re.split(r"[，,；（\s]", line, maxsplit=1)[0]
    name = name.strip(" ：，,")
    return name if len(name) >= 4 else None


def _date_kind(before: str) -> str | None:
    """signed / start / due by the words just before a date in its clause."""
    b = before[-14:]
    hits: list[tuple[int, str]] = []
    for kind, words in (("signed", _SIGN_WORDS), ("due", _DUE_WORDS), ("start", _START_WORDS)):
        for w in words:
            i = b.rfind(w)
            if i >= 0:
                hits.append((i + len(w), kind))
    if not hits:
        return None
    # The nearest keyword wins; 签订 over 起 in 签订之日起 (a start written as the signing).
    return max(hits)[1]


def _elements_component(doc: Any) -> Any:
    doc.user_data["contract"] = read_elements(doc)
    return doc


def read_elements(doc: Any) -> ContractElements:
    """The elements from a processed doc's marks (the work of `contract_elements`)."""
    text: str = doc.text
    out = ContractElements()
    ents = list(doc.ents)
    # Parties: a role label followed by a colon (after an optional （卖方） gloss), or a
    # name followed by （以下简称“甲方”）.
    roles_seen: set[str] = set()
    for i, e in enumerate(ents):
        if e.label_ != "ROLE" or e.text in roles_seen:
            continue
        after = text[e.end_char :]
        m = _ROLE_TAIL.match(after)
        name: str | None = None
        if m:
            name = _party_name(after[m.end() :])
            block_end = e.end_char + m.end() + 160
        else:
            lead = text[max(0, e.start_char - 12) : e.start_char]
            if re.search(r"简称[“\"']?$", lead):
                line_start = text.rfind("\n", 0, e.start_char) + 1
                head = text[line_start : e.start_char]
                head = re.split(r"（以下简称|（简称|，以下简称|以下简称", head)[0]
                name = _party_name(re.sub(r"^[^：]*：", "", head))
                block_end = e.end_char + 160
        if not name:
            continue
        roles_seen.add(e.text)
        if any(p.name == name for p in out.parties):
            continue
        party = Party(role=e.text, name=name)
        nxt = next((x.start_char for x in ents[i + 1:] if x.label_ == "ROLE"
                    and _ROLE_TAIL.match(text[x.end_char:])), None)  # fmt: skip
        limit = min(block_end, nxt) if nxt is not None else block_end
        for x in ents[i + 1 :]:
            if x.start_char >= limit:
                break
            if x.label_ == "USCC":
                party.uscc = x.text
                break
        out.parties.append(party)
    # Amount: the first figure after a price label in its clause, else the first figure.
    labelled: int | None = None
    first: tuple[int, Any] | None = None
    for e in ents:
        if e.label_ not in ("MONEY", "MONEY_WORDS"):
            continue
        lo, _ = _clause(text, e.start_char, e.end_char)
        before = text[lo : e.start_char]
        if e.label_ == "MONEY_WORDS":
            value = upper_amount_minor(e.text)
            if (
                value
                and out.amount_in_words_minor is None
                and ("大写" in before[-8:] or any(w in before for w in _AMOUNT_LABELS))
            ):
                out.amount_in_words_minor = value
            continue
        value = figure_amount_minor(e.text)
        if value is None:
            continue
        if first is None:
            first = (value, e)
        if not before.strip() and lo > 0:  # a table: the label on the line above
            before = text[_clause(text, lo - 1, lo - 1)[0] : lo - 1]
        if labelled is None and any(w in before for w in _AMOUNT_LABELS):
            labelled = value
            out.currency = _currency_in(e.text) or _currency_in(before[-6:])
    if labelled is not None:
        out.amount_minor = labelled
    elif first is not None:
        out.amount_minor, e0 = first
        out.currency = _currency_in(e0.text)
    if out.amount_minor is None and out.amount_in_words_minor is not None:
        out.amount_minor = out.amount_in_words_minor
    if out.currency is None and out.amount_minor is not None:
        out.currency = _currency_in(text) or "CNY"
    # Dates by the words before them in their clause (or on the line above, a table's
    # label); A 至 B: A starts, B ends.
    dates = [e for e in ents if e.label_ == "DATE"]
    range_end: set[int] = set()
    for e in dates:
        day = parse_date(e.text)
        if day is None:
            continue
        lo, _ = _clause(text, e.start_char, e.end_char)
        before = text[lo : e.start_char]
        nxt = next((x for x in dates if x.start_char > e.start_char), None)
        if e.start_char in range_end:
            kind: str | None = "due"
        elif nxt is not None and re.fullmatch(
            r"(?:起)?\s*(?:至|到|—|－|-|～|~)\s*", text[e.end_char : nxt.start_char]
        ):
            kind = "start"
            range_end.add(nxt.start_char)
        else:
            kind = _date_kind(before)
            if kind is None and re.match(
                r"\s*(?:在[^，。；\n]{0,8})?(?:签订|签署|签约|订立)",
                text[e.end_char : e.end_char + 12],
            ):
                kind = "signed"  # 本合同于 2024年3月1日 签订
            if kind is None and not before.strip() and lo > 0:
                plo, _ = _clause(text, lo - 1, lo - 1)
                kind = _date_kind(text[plo : lo - 1])
        if kind == "signed" and out.signed_on is None:
            out.signed_on = day
        elif kind == "start" and out.start_on is None:
            out.start_on = day
        elif kind == "due" and out.due_on is None:
            out.due_on = day
    # Clauses: payment, assignment, law, disputes.
    for e in ents:
        lo, hi = _clause(text, e.start_char, e.end_char)
        clause = text[lo:hi].strip()
        if e.label_ == "ASSIGN_BAN" and not out.assignment_restricted:
            out.assignment_restricted, out.assignment_clause = True, clause
        elif e.label_ == "LAW" and out.governing_law is None:
            m = re.search(r"(?:适用|受)([^，,。；\n]{2,30}?法律)", clause)
            if m:
                out.governing_law = m.group(1).strip()
        elif e.label_ == "DISPUTE" and out.dispute_resolution is None:
            m = re.search(r"([^，。；\n]{2,30}?(?:仲裁委员会|仲裁院|仲裁中心|人民法院))", clause)
            if m:
                where = re.sub(r"^.*?(?:提交|交由|向|由|提请|至)", "", m.group(1))
                way = "arbitration" if "仲裁" in where else "court"
                out.dispute_resolution = f"{way}: {where}"
        elif e.label_ == "PAYMENT" and out.payment_terms is None:
            days = _payment_days(clause)
            if days is not None:
                out.payment_terms, out.payment_days = clause, days
    return out


_DATE_TEXT = re.compile(r"\d{4}\s*[年\-/.]\s*\d{1,2}\s*[月\-/.]\s*\d{1,2}日?")
_DAYS = r"(\d{1,3}|[一二三四五六七八九十百]{1,4})\s*(个工作日|工作日|个月|日|天|月)"


def _payment_days(clause: str) -> int | None:
    """The payment period in days: N日内, 九十天内支付, 3个月内, 账期30天."""
    text = _DATE_TEXT.sub("", clause)
    m = re.search(_DAYS + r"\s*(?:以)?内", text) or re.search(r"(?:账期|月结)\s*" + _DAYS, text)
    if m is None:
        return None
    n = int(m.group(1)) if m.group(1).isdigit() else chinese_number(m.group(1))
    if n is None:
        return None
    return n * 30 if "月" in m.group(2) else n


def extract_elements(text: str) -> ContractElements:
    """The key elements of a contract's text."""
    doc = pipeline()(_norm(text))
    got: ContractElements = doc.user_data["contract"]
    return got


def read_contract(data: bytes, recogniser: Recogniser | None = None) -> tuple[str, str, int]:
    """The contract's text, how it was read and its pages; NotADocument when it is none."""
    text, how, pages = contract_text(data, recogniser)
    if not is_contract(text):
        raise NotADocument("no contract was found: no title with 合同 or 协议 and two parties")
    return text, how, pages


# --------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------


class Severity(StrEnum):
    HIGH = "high"  # the contract does not support the financing as asked: a person decides
    MEDIUM = "medium"  # a term differs or is missing: a person checks it
    LOW = "low"  # worth a look


@dataclass(frozen=True, slots=True)
class ExpectedParty:
    role: str  # who it is to the financing: applicant, counterparty
    enterprise_id: str | None
    name: str
    uscc: str | None = None


@dataclass(slots=True)
class Expected:
    """What the contract should say: from the application or financing and the graph."""

    against: str  # `application:<id>` or `financing:<id>`
    parties: list[ExpectedParty] = field(default_factory=list)
    amount_minor: int | None = None
    # `equal`: the graph's contract amount; `at_least`: the amount asked (no graph contract)
    amount_rule: str = "equal"
    currency: str | None = None
    signed_on: str | None = None
    start_on: str | None = None
    due_on: str | None = None
    contract_id: str | None = None  # the graph's Contract the expectation comes from
    transfer: bool = True  # the financing takes the receivable (factoring, pledge of it)


@dataclass(frozen=True, slots=True)
class Difference:
    element: str
    contract_value: str | None
    expected_value: str | None
    severity: Severity
    note: str = ""


def _money(minor: int | None, currency: str | None = None) -> str | None:
    if minor is None:
        return None
    return f"{currency + ' ' if currency else ''}{minor // 100:,}.{minor % 100:02d}"


def _same_party(p: Party, e: ExpectedParty) -> bool:
    """Exact USCC when both are written; otherwise entity resolution on the names."""
    if p.uscc and e.uscc:
        return p.uscc == e.uscc
    if _norm(p.name) == _norm(e.name):
        return True
    from entity_resolution.match import match
    from entity_resolution.records import EnterpriseRecord

    a = EnterpriseRecord(record_id="contract", source="contract", name=p.name, uscc=p.uscc or "")
    b = EnterpriseRecord(record_id="graph", source="graph", name=e.name, uscc=e.uscc or "")
    return match(a, b).same


def compare(c: ContractElements, x: Expected) -> list[Difference]:
    """The differences a reviewer must see, worst first."""
    out: list[Difference] = []
    matched: set[int] = set()
    for e in x.parties:
        hit = next((i for i, p in enumerate(c.parties) if i not in matched and _same_party(p, e)),
                   None)  # fmt: skip
        if hit is not None:
            matched.add(hit)
            p = c.parties[hit]
            if p.uscc and e.uscc and p.uscc != e.uscc:  # a name match, another firm's code
                out.append(Difference(f"party ({e.role})", f"{p.name} {p.uscc}",
                                      f"{e.name} {e.uscc}", Severity.HIGH,
                                      "the USCC written is not the graph's"))  # fmt: skip
            continue
        # A party with this one's name but another USCC, or missing altogether.
        near = next((p for p in c.parties if _norm(p.name) == _norm(e.name)), None)
        shown = "; ".join(f"{p.name}{' ' + p.uscc if p.uscc else ''}" for p in c.parties)
        out.append(Difference(
            f"party ({e.role})", f"{near.name} {near.uscc}" if near else (shown or None),
            f"{e.name}{' ' + e.uscc if e.uscc else ''}", Severity.HIGH,
            "the USCC written is not the graph's" if near else
            "the graph's party is not a party to the contract",
        ))  # fmt: skip
    for i, p in enumerate(c.parties):
        if i not in matched and x.parties:
            out.append(Difference("party (other)", f"{p.name}{' ' + p.uscc if p.uscc else ''}",
                                  None, Severity.MEDIUM,
                                  "a party the application does not name"))  # fmt: skip
    if not c.parties:
        out.append(Difference("parties", None, "; ".join(e.name for e in x.parties) or None,
                              Severity.HIGH, "no party was found in the text"))  # fmt: skip
    # Amount and currency.
    if c.amount_minor is None:
        out.append(Difference("amount", None, _money(x.amount_minor, x.currency),
                              Severity.HIGH, "no contract amount was found"))  # fmt: skip
    elif x.amount_minor is not None:
        if x.amount_rule == "equal" and c.amount_minor != x.amount_minor:
            out.append(
                Difference(
                    "amount",
                    _money(c.amount_minor, c.currency),
                    _money(x.amount_minor, x.currency),
                    Severity.HIGH,
                    f"not the amount of the graph's contract {x.contract_id}",
                )
            )
        elif x.amount_rule == "at_least" and c.amount_minor < x.amount_minor:
            out.append(Difference("amount", _money(c.amount_minor, c.currency),
                                  f"at least {_money(x.amount_minor, x.currency)}", Severity.HIGH,
                                  "the contract is smaller than the amount financed"))  # fmt: skip
    if (c.amount_in_words_minor is not None and c.amount_minor is not None
            and c.amount_in_words_minor != c.amount_minor):  # fmt: skip
        out.append(Difference("amount in words", _money(c.amount_in_words_minor),
                              _money(c.amount_minor), Severity.HIGH,
                              "the upper-case amount (大写) is not the figure"))  # fmt: skip
    if c.currency and x.currency and c.currency != x.currency:
        out.append(Difference("currency", c.currency, x.currency, Severity.HIGH))
    # Dates.
    for name, label, sev in (("due_on", "maturity date", Severity.HIGH),
                             ("signed_on", "signing date", Severity.MEDIUM),
                             ("start_on", "start date", Severity.LOW)):  # fmt: skip
        got, want = getattr(c, name), getattr(x, name)
        if want is None:
            continue
        if got is None:
            out.append(Difference(label, None, want, Severity.MEDIUM,
                                  f"no {label} was found in the text"))  # fmt: skip
        elif got != want:
            out.append(Difference(label, got, want, sev))
    # Clauses.
    if c.assignment_restricted:
        out.append(Difference(
            "assignment restriction", c.assignment_clause, "assignable",
            Severity.HIGH if x.transfer else Severity.MEDIUM,
            "the receivable's assignment is restricted; a transfer needs the debtor's consent "
            "or may be contested",
        ))  # fmt: skip
    if c.governing_law is None:
        out.append(Difference("governing law", None, "中华人民共和国法律", Severity.LOW,
                              "no governing-law clause was found"))  # fmt: skip
    elif "中华人民共和国" not in c.governing_law or any(
        w in c.governing_law for w in ("香港", "澳门", "台湾")
    ):
        out.append(Difference("governing law", c.governing_law, "中华人民共和国法律",
                              Severity.MEDIUM, "a law other than the PRC's"))  # fmt: skip
    if c.dispute_resolution is None:
        out.append(Difference("dispute resolution", None, None, Severity.LOW,
                              "no arbitration or court was found"))  # fmt: skip
    if c.payment_terms is None:
        out.append(Difference("payment terms", None, None, Severity.LOW,
                              "no payment period was found"))  # fmt: skip
    rank = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
    return sorted(out, key=lambda d: rank[d.severity])


def expected_from(against: str, row: dict[str, Any], today: dt.date | None = None) -> Expected:
    """The expectation from a CONTRACT_EXPECTED row: the application (or financing), its
    applicant, the graph's contract under the invoices offered and its parties."""
    app = row["application"]
    fin = row.get("financing") or {}
    applicant = row["applicant"]
    x = Expected(against=against, currency=str(app.get("currency") or "CNY"))
    x.parties.append(ExpectedParty("applicant", applicant["id"], applicant.get("name") or "",
                                   applicant.get("uscc")))  # fmt: skip
    contracts = [c for c in row.get("contracts") or [] if c.get("contract")]
    if contracts:
        c = contracts[0]
        k = c["contract"]
        x.contract_id = k["id"]
        x.amount_minor = int(k["amount"]) if k.get("amount") is not None else None
        x.currency = str(k.get("currency") or x.currency)
        x.signed_on = str(k["signed_on"])[:10] if k.get("signed_on") else None
        x.due_on = str(k["due_on"])[:10] if k.get("due_on") else None
        for p in c.get("parties") or []:
            if p and p.get("id") != applicant["id"]:
                x.parties.append(ExpectedParty("counterparty", p["id"], p.get("name") or "",
                                               p.get("uscc")))  # fmt: skip
    else:
        x.amount_rule = "at_least"
        x.amount_minor = int(fin.get("amount_minor") or app.get("amount_minor") or 0) or None
        seen = {applicant["id"]}
        for p in row.get("buyers") or []:
            if p and p.get("id") not in seen:
                seen.add(p["id"])
                x.parties.append(ExpectedParty("counterparty", p["id"], p.get("name") or "",
                                               p.get("uscc")))  # fmt: skip
        if fin.get("maturity_on"):
            x.due_on = str(fin["maturity_on"])[:10]
    return x


def summary(differences: Iterable[Difference]) -> str:
    """`clean`, or the worst severity found."""
    sev = {d.severity for d in differences}
    for s in (Severity.HIGH, Severity.MEDIUM, Severity.LOW):
        if s in sev:
            return s.value
    return "clean"
