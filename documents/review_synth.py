"""Contracts that the review tests make themselves: the text of a trade contract in one of
several wordings (titles, role labels, how the amount, the term, payment, assignment, law and
disputes are written), with the elements it states, and the deliberate alterations a
reviewer must catch (an altered amount, a wrong party, a maturity moved, an assignment ban
inserted). Rendered as a text-layer PDF (WeasyPrint) or as a damaged scan (`documents.synth`).
"""

from __future__ import annotations

import datetime as dt
import html
import random
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image, ImageDraw

from documents.synth import damage, font, make_firms, stamp

_UPPER = "零壹贰叁肆伍陆柒捌玖"


def upper_words(minor: int) -> str:
    """Minor units in upper-case numerals (大写): 壹佰贰拾万元整, 叁仟元伍角陆分."""

    def four(n: int) -> str:
        out, zero = "", False
        for unit, div in (("仟", 1000), ("佰", 100), ("拾", 10), ("", 1)):
            d = n // div % 10
            if d == 0:
                zero = bool(out)
                continue
            if zero:
                out += "零"
                zero = False
            out += _UPPER[d] + unit
        return out

    yuan, jiao, fen = minor // 100, minor // 10 % 10, minor % 10
    parts = []
    yi, wan, rest = yuan // 10**8, yuan // 10**4 % 10**4, yuan % 10**4
    if yi:
        parts.append(four(yi) + "亿")
    if wan:
        if yi and wan < 1000:
            parts.append("零")
        parts.append(four(wan) + "万")
    if rest:
        if (yi or wan) and rest < 1000:
            parts.append("零")
        parts.append(four(rest))
    text = "".join(parts) or "零"
    text += "元"
    if jiao == 0 and fen == 0:
        return text + "整"
    if jiao:
        text += _UPPER[jiao] + "角"
    elif fen:
        text += "零"
    if fen:
        text += _UPPER[fen] + "分"
    return text


@dataclass(frozen=True)
class ContractTruth:
    """What a generated contract states: the elements the review should read."""

    seller: dict[str, str]
    buyer: dict[str, str]
    amount_minor: int
    currency: str
    signed_on: str
    start_on: str
    due_on: str
    payment_days: int
    assignment_restricted: bool = False
    governing_law: str = "中华人民共和国法律"
    dispute_resolution: str = "arbitration: 上海国际仲裁中心"
    wording: dict[str, int] = field(default_factory=dict)


_TITLES = ("购销合同", "采购合同", "应收账款转让合同", "供货协议", "买卖合同", "框架采购协议")
_ROLES = (("甲方（卖方）", "乙方（买方）"), ("卖方", "买方"), ("出卖人", "买受人"),
          ("供方", "需方"), ("供货方", "采购方"), ("甲方", "乙方"))  # fmt: skip
_COURTS = ("arbitration: 上海国际仲裁中心", "arbitration: 中国国际经济贸易仲裁委员会",
           "court: 甲方所在地人民法院", "court: 上海市浦东新区人民法院",
           "arbitration: 深圳国际仲裁院")  # fmt: skip


def _cn(d: str) -> str:
    x = dt.date.fromisoformat(d)
    return f"{x.year}年{x.month}月{x.day}日"


def _date(d: str, style: int) -> str:
    x = dt.date.fromisoformat(d)
    return (_cn(d), d, f"{x.year}/{x.month}/{x.day}", f"{x.year}年{x.month:02d}月{x.day:02d}日")[
        style % 4
    ]


def _small_cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        return (digits[n // 10] if n >= 20 else "") + "十" + (digits[n % 10] if n % 10 else "")
    return digits[n // 100] + "百" + (_small_cn(n % 100) if n % 100 else "")


def make_truths(n: int, seed: int = 11) -> list[ContractTruth]:
    """``n`` contracts between generated firms, each with its own wording choices."""
    r = random.Random(seed)
    firms = make_firms(2 * n + 2, seed)
    out = []
    for i in range(n):
        seller, buyer = firms[2 * i], firms[2 * i + 1]
        amount = r.choice([r.randrange(1_000, 99_999) * 10_000 * 100,  # whole 万
                           r.randrange(100_000, 999_999_999) * 100,
                           r.randrange(10_000_000, 9_999_999_999)])  # fmt: skip
        signed = dt.date(2023, 1, 1) + dt.timedelta(days=r.randrange(0, 700))
        start = signed + dt.timedelta(days=r.randrange(0, 20))
        due = start + dt.timedelta(days=r.choice([90, 180, 270, 365]))
        out.append(ContractTruth(
            seller=seller, buyer=buyer, amount_minor=amount,
            currency="USD" if r.random() < 0.1 else "CNY",
            signed_on=signed.isoformat(), start_on=start.isoformat(), due_on=due.isoformat(),
            payment_days=r.choice([30, 45, 60, 90, 120]),
            assignment_restricted=r.random() < 0.3,
            governing_law="香港特别行政区法律" if r.random() < 0.08 else "中华人民共和国法律",
            dispute_resolution=r.choice(_COURTS),
            wording={k: r.randrange(0, 12) for k in (
                "title", "roles", "uscc", "amount", "words", "term", "signed", "payment",
                "assign", "law", "dates", "order")},
        ))  # fmt: skip
    return out


def _money_text(t: ContractTruth, style: int) -> str:
    yuan = f"{t.amount_minor // 100:,}.{t.amount_minor % 100:02d}"
    if t.currency == "USD":
        return (f"美元{yuan}元", f"USD {yuan}", f"US${yuan}")[style % 3]
    plain = f"{t.amount_minor // 100}.{t.amount_minor % 100:02d}"
    if style % 5 == 3 and t.amount_minor % 1_000_000 == 0:
        return f"人民币{t.amount_minor // 1_000_000}万元"
    return (f"人民币{yuan}元", f"¥{plain}元", f"CNY {yuan}", f"人民币{plain}元",
            f"￥{yuan}")[style % 5]  # fmt: skip


def contract_text(t: ContractTruth) -> str:
    """The contract's text in the wording its `wording` picks."""
    w = t.wording
    ds = w.get("dates", 0)
    ra, rb = _ROLES[w.get("roles", 0) % len(_ROLES)]
    lines = [_TITLES[w.get("title", 0) % len(_TITLES)], f"合同编号：HT-{t.signed_on[:4]}-"
             f"{t.seller['uscc'][-6:]}", ""]  # fmt: skip

    def party(role: str, f: dict[str, str]) -> list[str]:
        style = w.get("uscc", 0) % 4
        if style == 0:
            return [f"{role}：{f['name']}", f"统一社会信用代码：{f['uscc']}",
                    f"住所：{f['address']}"]  # fmt: skip
        if style == 1:
            return [f"{role}：{f['name']}（统一社会信用代码：{f['uscc']}）"]
        if style == 2:
            short = role.split("（")[0]
            return [f"{f['name']}（以下简称“{short}”）", f"社会信用代码：{f['uscc']}"]
        return [f"{role}：{f['name']}", f"法定代表人：{f['legal_rep']}"]

    lines += party(ra, t.seller) + party(rb, t.buyer) + [""]
    a, b = ra.split("（")[0], rb.split("（")[0]
    money = _money_text(t, w.get("amount", 0))
    words = upper_words(t.amount_minor)
    cur_word = "美元" if t.currency == "USD" else "人民币"
    clauses: list[str] = []
    amount_style = w.get("amount", 0) % 4
    with_words = w.get("words", 0) % 3 != 0
    if amount_style == 0:
        tail = f"（大写：{cur_word}{words}）" if with_words else ""
        clauses.append(f"合同金额：{money}{tail}")
    elif amount_style == 1:
        clauses.append(f"本合同总价款为{money}" + (f"，大写{cur_word}{words}" if with_words else "")
                       + "，含增值税。")  # fmt: skip
    elif amount_style == 2:
        clauses.append(f"{a}向{b}供应货物，合同总金额{money}" +
                       (f"（大写：{words}）" if with_words else "") + "。")  # fmt: skip
    else:
        clauses.append(f"价款合计：{money}" + (f"（{cur_word}大写{words}）" if with_words else ""))
    start, due, signed = (_date(t.start_on, ds), _date(t.due_on, ds), _date(t.signed_on, ds + 1))
    term = w.get("term", 0) % 4
    clauses.append(
        (
            f"合同期限自{start}起至{due}止。",
            f"履行期限：{start}至{due}。",
            f"本合同自{start}起生效，有效期至{due}。",
            f"交货开始日期：{start}；付款到期日：{due}。",
        )[term]
    )
    pay = w.get("payment", 0) % 4
    days = t.payment_days
    clauses.append(
        (
            f"{b}应于收到发票后{days}日内付款。",
            f"货款于货物验收合格后{_small_cn(days)}天内支付。",
            f"结算方式：月结，账期{days}天。",
            f"付款期限：发票开具之日起{days}日内以电汇方式支付全部货款。",
        )[pay]
    )
    if t.assignment_restricted:
        clauses.append(
            (
                f"未经{b}书面同意，{a}不得转让本合同项下的任何权利。",
                "本合同项下的债权禁止转让。",
                "任何一方不得将本合同项下的应收账款让与第三方。",
            )[w.get("assign", 0) % 3]
        )
    elif w.get("assign", 0) % 2 == 0:
        clauses.append(f"本合同项下应收账款的转让，须书面通知{b}。")
    law = w.get("law", 0) % 3
    clauses.append(
        (
            f"本合同适用{t.governing_law}。",
            f"本合同的订立、效力、解释和履行均适用{t.governing_law}。",
            f"本合同受{t.governing_law}管辖。",
        )[law]
    )
    way, _, where = t.dispute_resolution.partition(": ")
    clauses.append(
        f"因本合同引起的争议，双方协商不成的，提交{where}仲裁。"
        if way == "arbitration"
        else f"因本合同引起的争议，双方协商不成的，向{where}提起诉讼。"
    )
    signed_line = (f"签订日期：{signed}", f"本合同于{signed}签订，一式两份。",
                   f"签署日期：{signed}")[w.get("signed", 0) % 3]  # fmt: skip
    numerals = "一二三四五六七八九十"
    lines += [f"第{numerals[i]}条 {c}" for i, c in enumerate(clauses)]
    lines += ["", signed_line, f"{a}（盖章）：        {b}（盖章）："]
    return "\n".join(lines)


def truth_elements(t: ContractTruth) -> dict[str, Any]:
    """The elements the text states, in `ContractElements`'s terms."""
    return {
        "parties": sorted([(t.seller["name"], t.seller["uscc"] if t.wording.get("uscc", 0) % 4
                            != 3 else None),
                           (t.buyer["name"], t.buyer["uscc"] if t.wording.get("uscc", 0) % 4
                            != 3 else None)]),
        "amount_minor": t.amount_minor,
        "currency": t.currency,
        "signed_on": t.signed_on,
        "start_on": t.start_on,
        "due_on": t.due_on,
        "payment_days": t.payment_days,
        "assignment_restricted": t.assignment_restricted,
        "governing_law": t.governing_law,
        "dispute_resolution": t.dispute_resolution,
    }  # fmt: skip


ELEMENTS = (
    "parties",
    "amount_minor",
    "currency",
    "signed_on",
    "start_on",
    "due_on",
    "payment_days",
    "assignment_restricted",
    "governing_law",
    "dispute_resolution",
)


def alter(t: ContractTruth, what: str, other: dict[str, str] | None = None) -> ContractTruth:
    """The contract with one deliberate difference: `amount`, `party`, `maturity`, `ban`."""
    if what == "amount":
        return replace(t, amount_minor=t.amount_minor + 5_000_000)
    if what == "party":
        assert other is not None
        return replace(t, buyer=other)
    if what == "maturity":
        due = dt.date.fromisoformat(t.due_on) + dt.timedelta(days=60)
        return replace(t, due_on=due.isoformat())
    if what == "ban":
        return replace(t, assignment_restricted=True)
    raise ValueError(what)


def render_pdf(text: str) -> bytes:
    """The text as a text-layer PDF (WeasyPrint, Noto CJK)."""
    from weasyprint import HTML

    body = "".join(f"<p>{html.escape(ln) or '&nbsp;'}</p>" for ln in text.split("\n"))
    page = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>'
            '@page { size: A4; margin: 18mm; } body { font-family: "Noto Sans CJK SC"; '
            'font-size: 10.5pt; } p { margin: 1.2mm 0; }</style></head><body>'
            f"{body}</body></html>")  # fmt: skip
    pdf = HTML(string=page).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def render_scan(text: str, seed: int = 3) -> bytes:
    """The text printed on a landscape A4 page at 150 dpi, a seal over its foot, damaged
    as a scan is (rotation, blur, JPEG 60)."""
    r = random.Random(seed)
    lines = text.split("\n")
    img = Image.new("RGB", (1754, 1240), (252, 252, 248))
    d = ImageDraw.Draw(img)
    size = 26 if len(lines) <= 24 else 22
    y = 50
    for i, ln in enumerate(lines):
        f = font(40, bold=True) if i == 0 else font(size)
        d.text((877, y + 20) if i == 0 else (90, y), ln, font=f, fill=(15, 15, 15),
               anchor="mm" if i == 0 else "la")  # fmt: skip
        y += 62 if i == 0 else int(size * 1.75)
    stamp(img, (1450, min(y, 1120)), "合同专用章")
    return damage(img, r)[0]
