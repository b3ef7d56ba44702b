"""A graph Contract rendered as a PDF: Jinja2 fills a versioned HTML template from the
contract's facts (parties, goods, amount, dates), WeasyPrint lays it out with Debian's Noto
CJK fonts. The PDF is then signed by `documents.signing`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jinja2 import Environment, StrictUndefined

TEMPLATE_VERSION = "contract-v1"

KIND_TITLES = {
    "purchase": "采购合同 Purchase Contract",
    "supply": "供货合同 Supply Contract",
    "processing": "加工合同 Processing Contract",
    "framework": "框架合同 Framework Contract",
}

_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{{ title }} {{ c.id }}</title>
<style>
  @page { size: A4; margin: 20mm 18mm; @bottom-center { content: counter(page) " / " counter(pages);
          font-size: 8pt; } }
  body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; font-size: 10.5pt; }
  h1 { font-size: 16pt; text-align: center; margin-bottom: 2mm; }
  .no { text-align: center; color: #444; margin-bottom: 6mm; }
  table { border-collapse: collapse; width: 100%; margin: 3mm 0; }
  td, th { border: 0.5pt solid #888; padding: 1.5mm 2mm; text-align: left; }
  th { background: #f0f0f0; width: 28%; }
  .foot { margin-top: 10mm; font-size: 8pt; color: #666; }
</style></head><body>
<h1>{{ title }}</h1>
<div class="no">合同编号 Contract No. {{ c.id }}</div>
<table>
  <tr><th>卖方 Seller</th><td>{{ c.seller_name }}<br>统一社会信用代码 {{ c.seller_uscc }}</td></tr>
  <tr><th>买方 Buyer</th><td>{{ c.buyer_name }}<br>统一社会信用代码 {{ c.buyer_uscc }}</td></tr>
  <tr><th>合同金额 Amount</th><td>{{ c.currency }} {{ amount }}</td></tr>
  <tr><th>签订日期 Signed on</th><td>{{ c.signed_on }}</td></tr>
  <tr><th>到期日 Due on</th><td>{{ c.due_on or "—" }}</td></tr>
</table>
<table>
  <tr><th>货物 Goods</th><th>HS</th><th>数量 Quantity</th></tr>
  {% for g in c.goods %}<tr><td>{{ g.name }}</td><td>{{ g.hs_code or "" }}</td>
  <td>{{ g.quantity }} {{ g.unit or "" }}</td></tr>{% else %}
  <tr><td colspan="3">（合同项下尚无发票记载的货物
  no goods invoiced under the contract yet）</td></tr>
  {% endfor %}
</table>
<p>第一条 卖方按上述品名、数量向买方交付货物，买方按合同金额付款。</p>
<p>第二条 本合同项下应收账款的转让，须书面通知买方。</p>
<p>第三条 本合同适用中华人民共和国法律。</p>
<div class="foot">模板 Template {{ version }} · 由 ChainLens 生成并电子签名
generated and e-signed by ChainLens</div>
</body></html>
"""

_ENV = Environment(autoescape=True, undefined=StrictUndefined)


@dataclass(frozen=True)
class ContractFacts:
    """What the graph says of a contract: its parties, amount (minor units), dates, goods."""

    id: str
    kind: str | None
    amount_minor: int
    currency: str
    signed_on: str | None
    due_on: str | None
    seller_name: str
    seller_uscc: str
    buyer_name: str
    buyer_uscc: str
    goods: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ContractFacts:
        c, seller, buyer = row["contract"], row.get("seller") or {}, row.get("buyer") or {}
        goods: dict[str, dict[str, Any]] = {}
        for line in row.get("goods") or []:  # {goods, qty}: one invoice line each
            g = line.get("goods") or {}
            if g.get("id") is None:
                continue
            entry = goods.setdefault(g["id"], {**g, "quantity": Decimal(0)})
            with contextlib.suppress(ArithmeticError):
                entry["quantity"] += Decimal(str(line.get("qty") or 0))
        return cls(
            id=str(c["id"]), kind=c.get("kind"), amount_minor=int(c.get("amount") or 0),
            currency=str(c.get("currency") or "CNY"),
            signed_on=str(c["signed_on"]) if c.get("signed_on") else None,
            due_on=str(c["due_on"]) if c.get("due_on") else None,
            seller_name=str(seller.get("name") or "—"), seller_uscc=str(seller.get("uscc") or "—"),
            buyer_name=str(buyer.get("name") or "—"), buyer_uscc=str(buyer.get("uscc") or "—"),
            goods=sorted(goods.values(), key=lambda g: str(g["id"])),
        )  # fmt: skip


def contract_html(facts: ContractFacts) -> str:
    title = KIND_TITLES.get(facts.kind or "", "合同 Contract")
    amount = f"{Decimal(facts.amount_minor) / 100:,.2f}"
    return _ENV.from_string(_TEMPLATE).render(
        c=facts, title=title, amount=amount, version=TEMPLATE_VERSION
    )


def render_contract_pdf(facts: ContractFacts) -> bytes:
    """The contract as a PDF (WeasyPrint; fonts found by fontconfig)."""
    from weasyprint import HTML

    pdf = HTML(string=contract_html(facts)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
