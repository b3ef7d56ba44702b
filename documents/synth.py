"""A test set that makes itself: business licences and VAT invoices rendered as page images
from generated firms and invoices, with the damage of a real scan (rotation up to ±3°, blur,
JPEG at quality 60, 150 dpi, a red stamp over text), each with the fields it shows.

Firms come from `entity_resolution.synth` (the project generator's names, regions, legal
forms and valid USCCs). Text is set in Debian's Noto CJK fonts (fonts-noto-cjk), found with
fontconfig. Field values are in the canonical forms `documents.fields` writes: dates
`YYYY-MM-DD`, amounts in yuan with two decimals, registered capital in whole yuan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from documents.fields import DocumentKind, clean

DPI = 150
_FALLBACK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@cache
def _font_file(family: str) -> tuple[str, int]:
    if shutil.which("fc-match"):
        out = subprocess.run(
            ["fc-match", "-f", "%{file}|%{index}", family],
            capture_output=True, text=True, check=False, timeout=10,
        ).stdout  # fmt: skip
        path, _, index = out.partition("|")
        if path and "CJK" in path:
            return path, int(index or 0)
    if _FALLBACK_FONT.exists():
        return str(_FALLBACK_FONT), 2
    raise RuntimeError("no Noto CJK font: install Debian's fonts-noto-cjk")


@cache
def font(size: int, bold: bool = False, serif: bool = False) -> ImageFont.FreeTypeFont:
    family = f"Noto {'Serif' if serif else 'Sans'} CJK SC{':bold' if bold else ''}"
    path, index = _font_file(family)
    return ImageFont.truetype(path, size, index=index)


@dataclass(frozen=True, slots=True)
class Sample:
    """One rendered page and the fields it shows."""

    kind: DocumentKind
    truth: dict[str, str]
    image: bytes  # JPEG, as scanned (a PDF with a text layer from `make_text_pdfs`)
    damage: dict[str, float] = field(default_factory=dict)


def _cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def _yuan(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


# What a firm of each GB/T 4754 section does, worded as a licence's business scope does.
_SCOPE_BY_SECTION = {
    "A": "{g}的种植、养殖和销售；农业技术推广服务",
    "B": "{g}的开采、洗选和销售；矿产资源勘查",
    "C": "{g}的制造、加工和销售；技术服务、技术开发",
    "E": "{g}施工；工程管理服务；建筑材料销售",
    "F": "{g}的批发和零售；供应链管理服务",
    "K": "房地产开发经营；物业管理；住房租赁",
}
_SCOPE_EXTRA = (
    "货物进出口", "仓储服务（不含危险化学品）", "道路货物运输（不含危险货物）",
    "信息咨询服务（不含许可类信息咨询服务）", "机械设备租赁", "技术进出口",
)  # fmt: skip
_SCOPE_END = "（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
# When the firm's industry is not known: a plausible scope of a trading and services firm.
_SCOPE_GENERIC = "一般项目：企业管理咨询；信息咨询服务（不含许可类信息咨询服务）；日用百货销售"


def business_scope(name: str, r: random.Random) -> str:
    """A business scope (经营范围) for a firm, as printed: from the industry of its name's
    industry word (the chain role that uses it, its GB/T 4754 section and the goods it
    sells), or a generic one when the name has no known industry word."""
    from ingest.synthetic.chains import CHAINS, GOODS_BY_ID

    roles = [(w, role) for c in CHAINS for role in c.roles for w, _ in role.words if w in name]
    if not roles:
        return f"{_SCOPE_GENERIC}。{_SCOPE_END}"
    word, role = max(roles, key=lambda x: len(x[0]))
    goods = GOODS_BY_ID[role.goods_id].name if role.goods_id else f"{word}产品"
    first = _SCOPE_BY_SECTION.get(role.industry_code[0], "{g}的销售").format(g=goods)
    return f"{first}；{r.choice(_SCOPE_EXTRA)}。{_SCOPE_END}"


def make_firms(n: int, seed: int) -> list[dict[str, str]]:
    """``n`` firms as licence fields (canonical values; the business scope as printed)."""
    from entity_resolution.synth import iter_firms

    r = random.Random(seed)
    scopes = random.Random(seed + 1)  # apart, so that the other fields stay as they were
    firms = []
    for _, master, _ in iter_firms(n, seed, twin_rate=0.0):
        founded = dt.date(1995, 1, 1) + dt.timedelta(days=r.randrange(0, 10_000))
        capital = r.choice([50, 100, 200, 300, 500, 800, 1000, 2000, 5000, 12000]) * 10_000
        firms.append({
            "name": master.name,
            "uscc": master.uscc,
            "legal_form": master.legal_form or "有限责任公司",
            "legal_rep": master.legal_rep,
            "registered_capital": str(capital),
            "founded_on": founded.isoformat(),
            "address": master.address,
            "business_scope": business_scope(master.name, scopes),
        })  # fmt: skip
    return firms


def make_invoice(seller: dict[str, str], buyer: dict[str, str], r: random.Random) -> dict[str, str]:
    """An invoice between two firms (canonical values), tax at 13, 9 or 6 per cent."""
    amount = r.randrange(50_000, 500_000_000)  # minor units
    rate = r.choice([13, 9, 6])
    tax = round(amount * rate / 100)
    issued = dt.date(2023, 1, 1) + dt.timedelta(days=r.randrange(0, 900))
    out = {
        "code": str(r.randrange(10**9, 10**10)) if r.random() < 0.5 else
        str(r.randrange(10**11, 10**12)),
        "number": f"{r.randrange(0, 10**8):08d}",
        "issued_on": issued.isoformat(),
        "buyer_name": buyer["name"],
        "buyer_tax_id": buyer["uscc"],
        "seller_name": seller["name"],
        "seller_tax_id": seller["uscc"],
        "amount": _yuan(amount),
        "tax": _yuan(tax),
        "total": _yuan(amount + tax),
        "tax_rate": f"{rate}%",
    }  # fmt: skip
    out["check_code"] = check_code(out)
    return out


def check_code(v: dict[str, str]) -> str:
    """A 20-digit check code (校验码), as an invoice's is derived from its data: here from
    the code, number, date and total, so that drawing it takes nothing from the random
    stream and the other fields stay as they were."""
    key = "|".join(v[k] for k in ("code", "number", "issued_on", "total"))
    return f"{int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10**20:020d}"


def grouped(code: str, size: int = 5) -> str:
    """The check code as printed: in groups of five digits."""
    return " ".join(code[i : i + size] for i in range(0, len(code), size))


# A4 landscape at 150 dpi.
_W, _H = 1754, 1240


class _Recorder:
    """ImageDraw's text, rectangle and line, drawn and remembered, so that a page drawn as
    an image can be written again as a PDF with a text layer (`page_pdf`)."""

    def __init__(self, img: Image.Image) -> None:
        self._d = ImageDraw.Draw(img)
        self.size = img.size
        self.items: list[tuple[str, tuple[Any, ...]]] = []

    def text(self, xy: tuple[int, int], text: str, *, font: ImageFont.FreeTypeFont,
             fill: tuple[int, int, int], anchor: str | None = None) -> None:  # fmt: skip
        self._d.text(xy, text, font=font, fill=fill, anchor=anchor)
        family, style = font.getname()
        self.items.append(("text", (xy, text, font.size, family, style, fill, anchor)))

    def rectangle(self, box: tuple[int, int, int, int], *, outline: tuple[int, int, int],
                  width: int) -> None:  # fmt: skip
        self._d.rectangle(box, outline=outline, width=width)
        self.items.append(("rect", (box, outline, width)))

    def line(self, box: tuple[int, int, int, int], *, fill: tuple[int, int, int],
             width: int) -> None:  # fmt: skip
        self._d.line(box, fill=fill, width=width)
        self.items.append(("rect", (box, fill, width)))


def render_licence(f: dict[str, str]) -> Image.Image:
    return _licence(f)[0]


def _licence(f: dict[str, str]) -> tuple[Image.Image, _Recorder]:
    img = Image.new("RGB", (_W, _H), (252, 250, 244))
    d = _Recorder(img)
    d.rectangle((40, 40, _W - 40, _H - 40), outline=(150, 60, 40), width=8)
    d.text((_W // 2, 150), "营业执照", font=font(96, bold=True, serif=True), fill=(20, 20, 20),
           anchor="mm")  # fmt: skip
    d.text((140, 290), f"统一社会信用代码 {f['uscc']}", font=font(34), fill=(10, 10, 10))
    capital = int(f["registered_capital"]) // 10_000
    rows = [
        ("名称", f["name"]),
        ("类型", f["legal_form"]),
        ("法定代表人", f["legal_rep"]),
        ("注册资本", f"人民币{capital}万元"),
        ("成立日期", _cn_date(dt.date.fromisoformat(f["founded_on"]))),
        ("住所", f["address"]),
    ]
    y = 400
    for label, value in rows:
        d.text((160, y), label, font=font(34), fill=(10, 10, 10))
        d.text((420, y), value, font=font(34), fill=(10, 10, 10))
        y += 92
    # The business scope wraps over lines of its own column (a firm written by hand without
    # one prints none).
    if f.get("business_scope"):
        d.text((160, y), "经营范围", font=font(34), fill=(10, 10, 10))
        for i, part in enumerate(wrap(f["business_scope"], SCOPE_CHARS_PER_LINE)):
            d.text((420, y + i * 46), part, font=font(34), fill=(10, 10, 10))
    d.text((1300, 1020), "登记机关", font=font(34), fill=(10, 10, 10))
    d.text((1300, 1080), "2024年01月01日", font=font(30), fill=(10, 10, 10))
    return img, d


SCOPE_CHARS_PER_LINE = 22


# Chinese typesetting starts no line with closing punctuation (避头尾): it stays on the line
# before, which may run one character over.
_NO_LINE_START = "）)】》」』”’。，、；：！？"


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters (Chinese wraps anywhere), closing
    punctuation kept at the end of the line before."""
    lines: list[str] = []
    for ch in text:
        if lines and (len(lines[-1]) < width or ch in _NO_LINE_START):
            lines[-1] += ch
        else:
            lines.append(ch)
    return lines


def render_invoice(v: dict[str, str]) -> Image.Image:
    return _invoice(v)[0]


def _invoice(v: dict[str, str]) -> tuple[Image.Image, _Recorder]:
    img = Image.new("RGB", (_W, _H), (250, 252, 248))
    d = _Recorder(img)
    ink, frame = (15, 15, 15), (120, 80, 40)
    # An ordinary VAT invoice (普通发票): it prints a check code, a special one on paper not.
    d.text((_W // 2, 110), "增值税普通发票", font=font(64, bold=True, serif=True), fill=frame,
           anchor="mm")  # fmt: skip
    f30 = font(30)
    d.text((1150, 55), f"发票代码：{v['code']}", font=f30, fill=ink)
    d.text((1150, 100), f"发票号码：{v['number']}", font=f30, fill=ink)
    d.text((1150, 145), f"开票日期：{_cn_date(dt.date.fromisoformat(v['issued_on']))}",
           font=f30, fill=ink)  # fmt: skip
    if v.get("check_code"):
        d.text((1150, 190), f"校验码：{grouped(v['check_code'])}", font=f30, fill=ink)
    d.rectangle((80, 240, _W - 80, 1120), outline=frame, width=3)
    # Buyer block.
    d.line((80, 420, _W - 80, 420), fill=frame, width=2)
    d.text((110, 300), "购买方", font=f30, fill=frame)
    d.text((260, 270), f"名称：{v['buyer_name']}", font=f30, fill=ink)
    d.text((260, 340), f"纳税人识别号：{v['buyer_tax_id']}", font=f30, fill=ink)
    # Items.
    d.text((120, 450), "货物或应税劳务名称", font=f30, fill=frame)
    d.text((900, 450), "金额", font=f30, fill=frame)
    d.text((1180, 450), "税率", font=f30, fill=frame)
    d.text((1400, 450), "税额", font=f30, fill=frame)
    d.text((120, 530), "*货物*钢材", font=f30, fill=ink)
    d.text((900, 530), v["amount"], font=f30, fill=ink)
    d.text((1180, 530), v["tax_rate"], font=f30, fill=ink)
    d.text((1400, 530), v["tax"], font=f30, fill=ink)
    d.line((80, 640, _W - 80, 640), fill=frame, width=2)
    d.text((120, 660), "合计", font=f30, fill=frame)
    d.text((900, 660), f"¥{v['amount']}", font=f30, fill=ink)
    d.text((1400, 660), f"¥{v['tax']}", font=f30, fill=ink)
    d.line((80, 740, _W - 80, 740), fill=frame, width=2)
    d.text((120, 770), "价税合计（大写）", font=f30, fill=frame)
    d.text((1200, 770), f"（小写）¥{v['total']}", font=f30, fill=ink)
    d.line((80, 860, _W - 80, 860), fill=frame, width=2)
    # Seller block.
    d.text((110, 940), "销售方", font=f30, fill=frame)
    d.text((260, 900), f"名称：{v['seller_name']}", font=f30, fill=ink)
    d.text((260, 970), f"纳税人识别号：{v['seller_tax_id']}", font=f30, fill=ink)
    return img, d


def licence_pdf(f: dict[str, str]) -> bytes:
    """The licence as a PDF with a text layer (as one printed to PDF), no damage."""
    return page_pdf(_licence(f)[1])


def invoice_pdf(v: dict[str, str]) -> bytes:
    """The invoice as a PDF with a text layer, as an e-invoice (电子发票) is sent."""
    return page_pdf(_invoice(v)[1])


def page_pdf(page: _Recorder) -> bytes:
    """A drawn page laid out again by WeasyPrint on A4 landscape, each text at its place in
    Noto CJK: the PDF embeds the text, so pdfium reads it back with its positions."""
    from weasyprint import HTML

    k = 96 / DPI  # image pixels at 150 dpi to CSS pixels
    parts = []
    for what, args in page.items:
        if what == "text":
            (x, y), text, size, family, style, fill, anchor = args
            weight = 700 if "Bold" in style else 400
            where = (f"left:0;width:{page.size[0] * k:.2f}px;text-align:center;"
                     f"top:{(y - 0.6 * size) * k:.2f}px" if anchor == "mm"
                     else f"left:{x * k:.2f}px;top:{y * k:.2f}px")  # fmt: skip
            parts.append(
                f"<div style=\"{where};font-family:'{family}';font-weight:{weight};"
                f'font-size:{size * k:.2f}px;color:rgb{fill}">{html.escape(text)}</div>'
            )
        else:
            (x0, y0, x1, y1), colour, width = args
            parts.append(
                f'<div style="left:{x0 * k:.2f}px;top:{y0 * k:.2f}px;'
                f"width:{max(x1 - x0, 0) * k:.2f}px;height:{max(y1 - y0, 0) * k:.2f}px;"
                f'border:{width * k:.2f}px solid rgb{colour};box-sizing:border-box"></div>'
            )
    doc = (
        "<html><head><style>@page { size: 297mm 210mm; margin: 0 } body { margin: 0 }"
        " div { position: absolute; white-space: pre; line-height: 1 }</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )
    pdf: bytes = HTML(string=doc).write_pdf()
    return pdf


def stamp(img: Image.Image, center: tuple[int, int], text: str, radius: int = 110) -> None:
    """A red seal, half transparent, over whatever is under it."""
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    x, y = center
    red = (210, 30, 30, 120)
    d.ellipse((x - radius, y - radius, x + radius, y + radius), outline=red, width=7)
    d.text((x, y - 8), "★", font=font(54), fill=red, anchor="mm")
    d.text((x, y + radius // 2), text, font=font(24), fill=red, anchor="mm")
    img.paste(Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB"))


def damage(img: Image.Image, r: random.Random) -> tuple[bytes, dict[str, float]]:
    """Rotate by up to ±3°, blur, save as JPEG at quality 60 (150 dpi)."""
    angle = r.uniform(-3.0, 3.0)
    blur = r.uniform(0.4, 1.0)
    out = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                     fillcolor=(255, 255, 255)).filter(ImageFilter.GaussianBlur(blur))  # fmt: skip
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=60, dpi=(DPI, DPI))
    return buf.getvalue(), {"angle": round(angle, 2), "blur": round(blur, 2)}


def make_samples(n: int, seed: int = 7) -> list[Sample]:
    """``n`` damaged pages, licences and invoices alternately, each with its fields."""
    r = random.Random(seed)
    firms = make_firms(max(4, n), seed)
    out: list[Sample] = []
    for i in range(n):
        if i % 2 == 0:
            f = firms[i]
            img = render_licence(f)
            # The authority's seal over the founding date and the address.
            stamp(img, (r.randrange(560, 800), 820), "登记机关")
            truth = truth_of(DocumentKind.LICENCE, f)
            kind = DocumentKind.LICENCE
        else:
            seller, buyer = firms[i], firms[(i + 1) % len(firms)]
            v = make_invoice(seller, buyer, r)
            img = render_invoice(v)
            # The seller's invoice seal over its name.
            stamp(img, (r.randrange(700, 1000), 930), "发票专用章")
            truth = truth_of(DocumentKind.INVOICE, v)
            kind = DocumentKind.INVOICE
        data, dmg = damage(img, r)
        out.append(Sample(kind, truth, data, dmg))
    return out


def make_text_pdfs(n: int, seed: int = 7) -> list[Sample]:
    """``n`` PDFs with a text layer (licences printed to PDF and e-invoices, WeasyPrint),
    licences and invoices alternately, undamaged, each with its fields."""
    r = random.Random(seed)
    firms = make_firms(max(4, n), seed)
    out: list[Sample] = []
    for i in range(n):
        if i % 2 == 0:
            f = firms[i]
            out.append(Sample(DocumentKind.LICENCE, truth_of(DocumentKind.LICENCE, f),
                              licence_pdf(f)))  # fmt: skip
        else:
            v = make_invoice(firms[i], firms[(i + 1) % len(firms)], r)
            out.append(Sample(DocumentKind.INVOICE, truth_of(DocumentKind.INVOICE, v),
                              invoice_pdf(v)))  # fmt: skip
    return out


def truth_of(kind: DocumentKind, values: dict[str, str]) -> dict[str, str]:
    """The fields a page shows, in the canonical forms `documents.fields` writes (the
    business scope in its clean form: NFKC, no spaces)."""
    names = LICENCE_TRUTH if kind is DocumentKind.LICENCE else INVOICE_TRUTH
    out = {k: values[k] for k in names}
    if "business_scope" in out:
        out["business_scope"] = clean(out["business_scope"])
    return out


LICENCE_TRUTH = (
    "name", "uscc", "legal_form", "legal_rep", "registered_capital", "founded_on", "address",
    "business_scope",
)  # fmt: skip
INVOICE_TRUTH = (
    "code", "number", "issued_on", "buyer_name", "buyer_tax_id", "seller_name",
    "seller_tax_id", "amount", "tax", "total", "check_code",
)  # fmt: skip
