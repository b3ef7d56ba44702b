"""Versioned contract templates per product (docs/documents.md#financing-contracts).

`TEMPLATES` is the registry: each template has an id, a version and the product ids it serves.
A financing's contract is every template that serves its product, newest version of each, in
the registry's order: the financing agreement (every product), the notice of receivable
transfer (products that transfer receivables or voucher claims to the funder), the pledge
agreement (products secured by a pledge). The sections are filled from the financing, its
application and the graph (`FinancingContractFacts`) and laid out as one PDF by WeasyPrint
with Debian's Noto CJK fonts; the document records each template as ``id@version``.

A new version is a new entry (the old one stays, so that a reader can tell what an earlier
contract was made from); the newest version serving a product is the one used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jinja2 import Environment, StrictUndefined

from documents.errors import DocumentsError

ALL_PRODUCTS = frozenset({
    "factoring_recourse", "factoring_nonrecourse", "reverse_factoring", "receivables_pledge",
    "voucher_discounting", "order_financing", "warehouse_receipt_pledge",
    "movable_asset_pledge", "confirmed_warehouse",
})  # fmt: skip
# The receivable (or voucher claim) passes to the funder: the debtor must be told (民法典 546).
TRANSFER_PRODUCTS = frozenset({
    "factoring_recourse", "factoring_nonrecourse", "reverse_factoring", "voucher_discounting",
})  # fmt: skip
# Secured by a pledge: warehouse receipts, movables (also under a confirmed warehouse), and
# receivables pledged rather than transferred.
PLEDGE_PRODUCTS = frozenset({
    "warehouse_receipt_pledge", "movable_asset_pledge", "confirmed_warehouse",
    "receivables_pledge",
})  # fmt: skip

GOVERNING_LAW = "中华人民共和国法律 the laws of the People's Republic of China"


class NoTemplate(DocumentsError):
    """A product that no contract template serves."""

    http_status = 422


@dataclass(frozen=True)
class ContractTemplate:
    """One versioned section of a financing contract and the products it serves."""

    id: str
    version: int
    title: str
    products: frozenset[str]
    body: str  # Jinja2 HTML; sees `f` (FinancingContractFacts) and the helpers below

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


_FINANCING_AGREEMENT = """
<table>
  <tr><th>甲方（融资人）Borrower</th><td>{{ f.borrower_name }}<br>统一社会信用代码 USCC
    {{ f.borrower_uscc }}{% if f.borrower_address %}<br>{{ f.borrower_address }}
    {% endif %}</td></tr>
  <tr><th>乙方（资金方）Funder</th><td>{{ f.funder_name }}<br>统一社会信用代码 USCC
    {{ f.funder_uscc or "—" }}</td></tr>
  <tr><th>产品 Product</th><td>{{ f.product_id }}{% if f.product_version %}
    ({{ f.product_version }}){% endif %}</td></tr>
  <tr><th>融资金额 Amount</th><td>{{ f.currency }} {{ yuan(f.amount_minor) }} 元<br>
    人民币（大写）{{ words(f.amount_minor) }}</td></tr>
  <tr><th>年利率 Rate</th><td>{{ rate(f.rate_bps) }} % p.a.
    ({{ f.day_count or "ACT/360" }})</td></tr>
  <tr><th>期限 Tenor</th><td>{{ f.tenor_days }} 天 days，自放款日起算
    from the disbursement date</td></tr>
  <tr><th>申请 Application</th><td>{{ f.application_id or "—" }}，批准日 approved on
    {{ f.approved_on or "—" }}</td></tr>
</table>
<p>第一条 乙方按上述金额、利率和期限向甲方提供融资，甲方按期归还本金并支付利息。</p>
<p>第二条 担保：甲方以附表所列{{ collateral_word }}作为本融资的{{ security_word }}。</p>
{% if f.conditions %}<p>第三条 放款条件 Conditions precedent:</p><ol>
{% for c in f.conditions %}<li>{{ c }}</li>{% endfor %}</ol>{% endif %}
<table>
  <tr><th>编号 ID</th><th>类别 Kind</th><th>说明 Details</th><th>价值 Value (元)</th></tr>
  {% for c in f.collateral %}<tr><td>{{ c.id }}</td><td>{{ c.label }}{% if c.kind %}
    · {{ c.kind }}{% endif %}</td><td>{{ c.details }}</td><td>{{ yuan(c.value_minor) }}</td></tr>
  {% else %}<tr><td colspan="4">无 none</td></tr>{% endfor %}
</table>
<p>适用法律 Governing law：{{ f.governing_law }}。争议由乙方所在地人民法院管辖。</p>
"""

_TRANSFER_NOTICE = """
<p>致债务人 To the debtor(s):
{% for d in f.debtors %}{{ d.name }}（统一社会信用代码 {{ d.uscc or "—" }}）{% if not loop.last %}、
{% endif %}{% else %}附表所列债务人 the debtors listed below{% endfor %}</p>
<p>{{ f.borrower_name }}（统一社会信用代码 {{ f.borrower_uscc }}）
已将下列应收账款（债权）及其从权利转让予
{{ f.funder_name }}。自本通知送达之日起，请向受让人付款。 The receivables below, with their
ancillary rights, have been transferred to {{ f.funder_name }}; from receipt of this notice
please pay the transferee.</p>
<table>
  <tr><th>编号 ID</th><th>债务人 Debtor</th><th>到期日 Due</th><th>金额 Amount (元)</th></tr>
  {% for c in f.collateral %}<tr><td>{{ c.id }}</td><td>{{ c.debtor_name or "—" }}</td>
  <td>{{ c.due_on or "—" }}</td><td>{{ yuan(c.value_minor) }}</td></tr>{% endfor %}
  <tr><th colspan="3">合计 Total</th><td>{{ yuan(f.collateral_total) }}</td></tr>
</table>
"""

_PLEDGE_AGREEMENT = """
<p>出质人 Pledgor：{{ f.borrower_name }}（统一社会信用代码 {{ f.borrower_uscc }}）；
质权人 Pledgee：{{ f.funder_name }}。</p>
<p>第一条 出质人以下列质物为融资协议项下债务提供质押担保，担保金额 {{ f.currency }}
{{ yuan(f.amount_minor) }} 元（{{ words(f.amount_minor) }}）。</p>
<table>
  <tr><th>质物 ID</th><th>品名 Goods</th><th>数量 Quantity</th><th>存放 Stored at</th>
      <th>价值 Value (元)</th></tr>
  {% for c in f.collateral %}<tr><td>{{ c.id }}</td><td>{{ c.goods or c.kind or c.label }}</td>
  <td>{{ c.quantity if c.quantity is not none else "—" }} {{ c.unit or "" }}</td>
  <td>{{ c.warehouse or "—" }}</td><td>{{ yuan(c.value_minor) }}</td></tr>{% endfor %}
  <tr><th colspan="4">合计 Total</th><td>{{ yuan(f.collateral_total) }}</td></tr>
</table>
<p>第二条 质押期间质物由监管仓库或传感器监控，出质人不得擅自处分；质押在登记机构登记。</p>
"""

# The registry: every template, every version, and the products each serves.
TEMPLATES: tuple[ContractTemplate, ...] = (
    ContractTemplate("financing_agreement", 1, "融资协议 Financing Agreement", ALL_PRODUCTS,
                     _FINANCING_AGREEMENT),
    ContractTemplate("receivable_transfer_notice", 1,
                     "应收账款转让通知书 Notice of Receivable Transfer", TRANSFER_PRODUCTS,
                     _TRANSFER_NOTICE),
    ContractTemplate("pledge_agreement", 1, "质押合同 Pledge Agreement", PLEDGE_PRODUCTS,
                     _PLEDGE_AGREEMENT),
)  # fmt: skip


def templates_for(product_id: str) -> list[ContractTemplate]:
    """The newest version of every template serving ``product_id``, in the registry's order;
    NoTemplate when none does."""
    newest: dict[str, ContractTemplate] = {}
    for t in TEMPLATES:
        if product_id in t.products and (t.id not in newest or t.version > newest[t.id].version):
            newest[t.id] = t
    if "financing_agreement" not in newest:
        raise NoTemplate(f"no contract template serves product {product_id}")
    order = [t.id for t in TEMPLATES]
    return sorted(newest.values(), key=lambda t: order.index(t.id))


# ---- amounts -------------------------------------------------------------------------------
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ("", "拾", "佰", "仟")
_BIG = ("", "万", "亿", "万亿")


def yuan(fen: int | None) -> str:
    """Integer fen as yuan in figures: 123456789 -> '1,234,567.89'."""
    fen = int(fen or 0)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _four(n: int) -> str:
    """0 < n < 10000 in capital numerals, with 零 for inner zeros."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // 10**pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _SMALL[pos]
    return out


def amount_in_words(fen: int) -> str:
    """Integer fen as the capital amount of a Chinese financial document (人民币大写):
    100_000_000 -> '壹佰万元整', 123_456_789 -> '壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分',
    100_005 -> '壹仟元零伍分'."""
    if fen < 0:
        return "负" + amount_in_words(-fen)
    whole, cents = divmod(fen, 100)
    jiao, fen_ = divmod(cents, 10)
    if whole >= 10**16:
        raise ValueError("an amount of 10^16 yuan or more has no capital form here")
    groups: list[int] = []
    n = whole
    while n:
        groups.append(n % 10000)
        n //= 10000
    text = ""
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            if text and not text.endswith("零"):
                text += "零"
            continue
        if text and (g < 1000 and not text.endswith("零")):
            text += "零"
        text += _four(g) + _BIG[i]
    text = text.rstrip("零")
    if not text and not cents:
        return "零元整"
    out = text + "元" if text else ""
    if not cents:
        return out + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif text:
        out += "零"
    if fen_:
        out += _DIGITS[fen_] + "分"
    else:
        out += "整"
    return out


# ---- the facts a contract is filled from ----------------------------------------------------
@dataclass(frozen=True)
class Collateral:
    id: str
    label: str
    kind: str | None
    value_minor: int
    debtor_name: str | None = None
    debtor_uscc: str | None = None
    due_on: str | None = None
    goods: str | None = None
    quantity: Any = None
    unit: str | None = None
    warehouse: str | None = None

    @property
    def details(self) -> str:
        if self.debtor_name:
            return f"债务人 {self.debtor_name}" + (f"，到期 {self.due_on}" if self.due_on else "")
        parts = [self.goods or "", f"{self.quantity} {self.unit or ''}".strip()
                 if self.quantity is not None else "", self.warehouse or ""]  # fmt: skip
        return " · ".join(p for p in parts if p) or "—"


@dataclass(frozen=True)
class FinancingContractFacts:
    """What a financing's contract says: parties, amount (integer fen), rate, tenor, the
    collateral with ids and values, dates, governing law."""

    contract_no: str
    financing_id: str
    application_id: str | None
    product_id: str
    product_version: str | None
    currency: str
    amount_minor: int
    rate_bps: int
    day_count: str | None
    tenor_days: int
    approved_on: str | None
    borrower_id: str
    borrower_name: str
    borrower_uscc: str
    borrower_address: str | None
    funder_id: str
    funder_name: str
    funder_uscc: str | None
    generated_on: str
    conditions: list[str] = field(default_factory=list)
    collateral: list[Collateral] = field(default_factory=list)
    governing_law: str = GOVERNING_LAW

    @property
    def collateral_total(self) -> int:
        return sum(c.value_minor for c in self.collateral)

    @property
    def debtors(self) -> list[dict[str, str | None]]:
        seen: dict[str, dict[str, str | None]] = {}
        for c in self.collateral:
            if c.debtor_name and c.debtor_name not in seen:
                seen[c.debtor_name] = {"name": c.debtor_name, "uscc": c.debtor_uscc}
        return list(seen.values())

    @classmethod
    def from_row(cls, row: dict[str, Any], contract_no: str, today: date) -> FinancingContractFacts:
        """From `graph.queries.financing_contracts.financing_contract_facts`."""
        f, b = row["financing"], row.get("borrower") or {}
        fu = row.get("funder") or {}
        collateral = [
            Collateral(
                id=str(c["id"]), label=str(c.get("label") or ""), kind=c.get("kind"),
                value_minor=int(c.get("value") or 0),
                debtor_name=(c.get("debtor") or {}).get("name"),
                debtor_uscc=(c.get("debtor") or {}).get("uscc"),
                due_on=str(c["due_on"]) if c.get("due_on") else None,
                goods=c.get("goods"), quantity=c.get("quantity"), unit=c.get("unit"),
                warehouse=c.get("warehouse"),
            )
            for c in sorted(row.get("collateral") or [], key=lambda c: str(c["id"]))
        ]  # fmt: skip
        funder_id = str(f.get("funder_id") or fu.get("id") or "default")
        return cls(
            contract_no=contract_no, financing_id=str(f["id"]),
            application_id=f.get("application_id"), product_id=str(f.get("product_id") or ""),
            product_version=f.get("product_version"), currency=str(f.get("currency") or "CNY"),
            amount_minor=int(f.get("amount_minor") or 0), rate_bps=int(f.get("rate_bps") or 0),
            day_count=f.get("day_count"), tenor_days=int(f.get("tenor_days") or 0),
            approved_on=str(f["approved_on"]) if f.get("approved_on") else None,
            borrower_id=str(f.get("borrower_id") or b.get("id") or ""),
            borrower_name=str(b.get("name") or "—"), borrower_uscc=str(b.get("uscc") or "—"),
            borrower_address=b.get("address"), funder_id=funder_id,
            funder_name=str(fu.get("name") or f.get("lender") or funder_id), funder_uscc=None,
            generated_on=today.isoformat(), conditions=list(f.get("conditions") or []),
            collateral=collateral,
        )  # fmt: skip


# ---- rendering ------------------------------------------------------------------------------
_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{{ f.contract_no }}</title>
<style>
  @page { size: A4; margin: 20mm 18mm; @bottom-center { content: "{{ f.contract_no }} · "
          counter(page) " / " counter(pages); font-size: 8pt; } }
  body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; font-size: 10pt; }
  h1 { font-size: 15pt; text-align: center; margin: 0 0 2mm; }
  section + section { break-before: page; }
  .no { text-align: center; color: #444; margin-bottom: 5mm; }
  table { border-collapse: collapse; width: 100%; margin: 3mm 0; }
  td, th { border: 0.5pt solid #888; padding: 1.2mm 2mm; text-align: left; }
  th { background: #f0f0f0; }
  .sign { margin-top: 8mm; }
  .foot { margin-top: 6mm; font-size: 8pt; color: #666; }
</style></head><body>
{% for t in templates %}<section>
<h1>{{ t.title }}</h1>
<div class="no">合同编号 Contract No. {{ f.contract_no }} · 融资 Financing {{ f.financing_id }}
 · 日期 {{ f.generated_on }}</div>
{{ sections[loop.index0] }}
<table class="sign"><tr><th>融资人（签章）Borrower</th><td>{{ f.borrower_name }}</td>
<th>资金方（签章）Funder</th><td>{{ f.funder_name }}</td></tr></table>
<div class="foot">模板 Template {{ t.ref }} · 由 ChainLens 生成，双方以电子签名（PAdES）签署
generated by ChainLens, signed electronically (PAdES) by both parties</div>
</section>{% endfor %}
</body></html>
"""

_ENV = Environment(autoescape=True, undefined=StrictUndefined)


def contract_html(facts: FinancingContractFacts, templates: list[ContractTemplate]) -> str:
    has_pledge = any(t.id == "pledge_agreement" for t in templates)
    has_transfer = any(t.id == "receivable_transfer_notice" for t in templates)
    helpers = {
        "yuan": yuan, "words": amount_in_words, "rate": lambda bps: f"{int(bps) / 100:.2f}",
        "collateral_word": "应收账款" if has_transfer else "质物" if has_pledge else "资产",
        "security_word": "转让担保" if has_transfer else "质押担保" if has_pledge else "担保",
    }  # fmt: skip
    from markupsafe import Markup

    sections = [Markup(_ENV.from_string(t.body).render(f=facts, **helpers)) for t in templates]
    return _ENV.from_string(_PAGE).render(f=facts, templates=templates, sections=sections)


def render_financing_contract(
    facts: FinancingContractFacts, templates: list[ContractTemplate]
) -> bytes:
    """The contract as one PDF (WeasyPrint; Noto CJK found by fontconfig)."""
    from weasyprint import HTML

    pdf = HTML(string=contract_html(facts, templates)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
