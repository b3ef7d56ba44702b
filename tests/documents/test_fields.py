"""Layout rules on hand-placed lines (no OCR): labels with values on the same line or to the
right, buyer and seller told apart by their headers, skew, review marks and checks, a
business scope over several lines, an invoice's check code."""

from __future__ import annotations

from dataclasses import replace

from documents.fields import (
    CHECKED_BELOW,
    REVIEW_BELOW,
    SCOPE_LINE_BELOW,
    extract_invoice,
    extract_licence,
    parse_scope,
    parse_uscc,
)
from documents.ocr import Line
from entity_resolution.uscc import make_uscc

USCC = make_uscc("9", "1", "310000", "MA1FL0FJ")
BUYER = make_uscc("9", "1", "440300", "MA5DA0X1")


def ln(text: str, x: float, y: float, score: float = 0.99, w: float = 300) -> Line:
    return Line(text, x, y, x + w, y + 40, score)


SCOPE = (
    "钢材、建材的销售；货物进出口；技术",
    "进出口。（依法须经批准的项目，经相关",
    "部门批准后方可开展经营活动）",
)


def licence_lines(**scores: float) -> list[Line]:
    s = {k: scores.get(k, 0.99) for k in ("name", "uscc", "rep", "address", "scope")}
    return [
        ln("营业执照", 700, 100),
        ln(f"统一社会信用代码 {USCC}", 140, 300, s["uscc"], 600),
        ln("名称", 160, 400, w=80), ln("上海恒达钢铁有限公司", 420, 402, s["name"]),
        ln("类型", 160, 500, w=80), ln("有限责任公司", 420, 498),
        ln("法定代表人", 160, 600, w=170), ln("王小明", 420, 603, s["rep"]),
        ln("注册资本", 160, 700, w=140), ln("人民币500万元", 420, 700),
        ln("成立日期", 160, 800, w=140), ln("2015年03月02日", 420, 800),
        ln("住所", 160, 900, w=80), ln("上海市纬-路12号", 420, 900, s["address"]),
        # The scope wraps over three lines of its column; the authority sits to its right.
        ln("经营范围", 160, 1000, w=140), ln(SCOPE[0], 420, 1002, w=660),
        ln(SCOPE[1], 420, 1044, s["scope"], w=660), ln("登记机关", 1300, 1050, w=140),
        ln(SCOPE[2], 420, 1086, w=420), ln("2024年01月01日", 1300, 1110),
    ]  # fmt: skip


def test_licence_fields_by_label_and_row() -> None:
    ex = extract_licence(licence_lines())
    got = {n: f.value for n, f in ex.fields.items()}
    assert got == {
        "name": "上海恒达钢铁有限公司", "uscc": USCC, "legal_form": "有限责任公司",
        "legal_rep": "王小明", "registered_capital": "5000000", "founded_on": "2015-03-02",
        "address": "上海市纬一路12号",  # a dash between Chinese characters is 一
        # Its three lines joined, in the clean form (NFKC: （ to (, ； to ;), no spaces.
        "business_scope": "钢材、建材的销售;货物进出口;技术进出口。(依法须经批准的项目,"
                          "经相关部门批准后方可开展经营活动)",
    }  # fmt: skip
    assert ex.for_review == []


def test_low_confidence_is_marked_for_a_person_not_used() -> None:
    ex = extract_licence(licence_lines(rep=REVIEW_BELOW - 0.01))
    rep = ex.fields["legal_rep"]
    assert rep.needs_review and rep.accepted is None and "confidence" in rep.reason
    assert ex.for_review == ["legal_rep"]


def test_business_scope_is_read_until_the_next_label() -> None:
    # The next label (left of the column) ends the block though it follows without a gap.
    below = [ln("营业期限", 160, 1130, w=140), ln("长期", 420, 1130, w=80)]
    lines = [*licence_lines(), *below]
    scope = extract_licence(lines).fields["business_scope"]
    assert scope.accepted is not None and scope.accepted.endswith("经营活动)")
    # A label within the column (inline, as 营业期限：长期) ends it too.
    inline = [*licence_lines()[:-2], ln("营业期限：长期", 420, 1086, w=300)]
    assert extract_licence(inline).fields["business_scope"].raw == (
        "钢材、建材的销售;货物进出口;技术进出口。(依法须经批准的项目,经相关"
    )
    # A line of the scope that merely begins with a label's words is not a label.
    words = [ln("住所托管服务)", 420, 1086, w=200) if x.text == SCOPE[2] else x for x in lines]
    assert extract_licence(words).fields["business_scope"].accepted == (
        "钢材、建材的销售;货物进出口;技术进出口。(依法须经批准的项目,经相关住所托管服务)"
    )
    # Label and first line on one line (a scope printed inline), continued below it.
    one = [x for x in licence_lines() if not x.text.startswith(("经营范围", SCOPE[0]))]
    one.append(ln(f"经营范围：{SCOPE[0]}", 160, 1002, w=920))
    assert extract_licence(one).fields["business_scope"].accepted == (
        extract_licence(licence_lines()).fields["business_scope"].accepted
    )


def test_a_scope_line_cut_in_pieces_is_read_whole() -> None:
    """The recogniser may cut one printed line in two boxes: the first line's and a later
    row's pieces are joined; a box further right (the authority) is not part of the scope."""
    whole = extract_licence(licence_lines()).fields["business_scope"].accepted
    cut = []
    for x in licence_lines():
        if x.text in (SCOPE[0], SCOPE[1]):
            half = len(x.text) // 2
            cut += [ln(x.text[:half], 420, x.y0, w=300), ln(x.text[half:], 740, x.y0, w=340)]
        else:
            cut.append(x)
    assert extract_licence(cut).fields["business_scope"].accepted == whole


def test_a_scope_line_read_with_low_confidence_sends_the_scope_to_a_person() -> None:
    # The scope's confidence is the mean over its characters: one line a little under 0.95
    # among lines at 0.99 leaves it accepted.
    scope = extract_licence(licence_lines(scope=REVIEW_BELOW - 0.02)).fields["business_scope"]
    assert not scope.needs_review
    n, k = sum(len(x) for x in SCOPE), len(SCOPE[1])
    assert scope.confidence == round(((n - k) * 0.99 + k * (REVIEW_BELOW - 0.02)) / n, 4)
    # A line under SCOPE_LINE_BELOW sends it to a person whatever the mean.
    low = SCOPE_LINE_BELOW - 0.01
    marks = {SCOPE[0]: 1.0, SCOPE[1]: 1.0, SCOPE[2]: low}
    lines = [replace(x, score=marks.get(x.text, x.score)) for x in licence_lines()]
    scope = extract_licence(lines).fields["business_scope"]
    assert scope.confidence >= REVIEW_BELOW and scope.needs_review and scope.accepted is None
    assert scope.reason == f"a line read with confidence {low} < {SCOPE_LINE_BELOW}"
    # Every line a little low: the mean is under 0.95.
    lines = [replace(x, score=0.93) if x.x0 == 420 and x.y0 > 990 else x for x in licence_lines()]
    scope = extract_licence(lines).fields["business_scope"]
    assert scope.needs_review and scope.reason == f"confidence 0.93 < {REVIEW_BELOW}"
    # A closing bracket not read (a lone ）on a line of its own): brackets do not pair up.
    cut = [replace(x, text=x.text[:-1]) if x.text == SCOPE[2] else x for x in licence_lines()]
    f = extract_licence(cut).fields["business_scope"]
    assert f.needs_review and f.value is None and "1 opening and 0 closing" in f.reason
    missing = [x for x in licence_lines() if "经营范围" not in x.text]
    f = extract_licence(missing).fields["business_scope"]
    assert f.needs_review and f.reason == "not found on the page"


def test_wrong_check_character_is_kept_with_its_reason() -> None:
    bad = USCC[:17] + ("0" if USCC[17] != "0" else "1")
    value, why = parse_uscc(bad)
    assert value == bad and "check_character" in why
    assert parse_uscc(USCC.replace("0", "O", 1)) == (USCC, "")  # O read for 0 repaired
    assert parse_uscc("9131000")[0] is None


def test_missing_label_is_not_found_not_guessed() -> None:
    lines = [x for x in licence_lines() if "成立日期" not in x.text]
    f = extract_licence(lines).fields["founded_on"]
    assert f.value is None and f.needs_review and f.reason == "not found on the page"


CHECK = "04763166740524459762"


def invoice_lines(
    total: str = "1130.00", skew: float = 0.0, check: tuple[str, ...] = ("04763 16674 05244 59762",)
) -> list[Line]:
    def at(text: str, x: float, y: float, w: float = 300) -> Line:
        return ln(text, x, y + x * skew, w=w)

    checks = [at("校验码：" + check[0], 1150, 200, 450)] if check else []
    checks += [at(part, 1600 + 110 * i, 200, 100) for i, part in enumerate(check[1:])]
    return [
        at("增值税普通发票", 700, 100), at("发票代码：3100194130", 1200, 70),
        at("发票号码：01234567", 1200, 120), at("开票日期：2024年05月12日", 1200, 170), *checks,
        at("购买方", 110, 300, 90), at("名称：深圳前海买方贸易有限公司", 260, 270, 500),
        at(f"纳税人识别号：{BUYER}", 260, 340, 500),
        at("合计", 120, 660, 70), at("¥1,000.00", 900, 660), at("¥130.00", 1400, 660),
        at(f"价税合计（大写） （小写）¥{total}", 120, 770, 1300),
        at("销售方", 110, 940, 90), at("名称：上海恒达钢铁有限公司", 260, 900, 500),
        at(f"纳税人识别号：{USCC}", 260, 970, 500),
    ]  # fmt: skip


def test_invoice_parties_by_nearest_header_and_amounts_by_row() -> None:
    ex = extract_invoice(invoice_lines())
    got = {n: f.value for n, f in ex.fields.items()}
    assert got == {
        "code": "3100194130", "number": "01234567", "issued_on": "2024-05-12",
        "buyer_name": "深圳前海买方贸易有限公司", "buyer_tax_id": BUYER,
        "seller_name": "上海恒达钢铁有限公司", "seller_tax_id": USCC,
        "amount": "1000.00", "tax": "130.00", "total": "1130.00", "check_code": CHECK,
    }  # fmt: skip
    assert ex.for_review == []


def test_check_code_in_groups_joined_and_never_guessed() -> None:
    # Read as several boxes on the label's row: the digit groups are joined.
    split = invoice_lines(check=("04763", "16674", "05244", "59762"))
    assert extract_invoice(split).fields["check_code"].accepted == CHECK
    # A digit read as a letter leaves 19 digits: for a person, with the reason.
    f = extract_invoice(invoice_lines(check=("0476S 16674 05244 59762",))).fields["check_code"]
    assert f.needs_review and f.value is None and "20 digits, read 19" in f.reason
    # A low-confidence check code goes to a person (it has no independent check).
    low = [
        replace(x, score=REVIEW_BELOW - 0.01) if "校验码" in x.text else x for x in invoice_lines()
    ]
    assert extract_invoice(low).for_review == ["check_code"]
    # An ordinary invoice without one: not found, for a person. A paper special invoice
    # (专用发票) prints none: empty, not for review.
    assert extract_invoice(invoice_lines(check=())).for_review == ["check_code"]
    special = [
        replace(x, text="增值税专用发票") if x.text == "增值税普通发票" else x
        for x in invoice_lines(check=())
    ]
    f = extract_invoice(special).fields["check_code"]
    assert (f.value, f.needs_review) == (None, False) and "special" in f.reason


def test_amounts_that_do_not_add_up_are_all_for_review() -> None:
    ex = extract_invoice(invoice_lines(total="1131.00"))
    assert ex.for_review == ["amount", "tax", "total"]
    assert "is not the total" in ex.fields["total"].reason


def test_checked_values_are_accepted_down_to_the_lower_floor() -> None:
    low = CHECKED_BELOW + 0.05
    assert low < REVIEW_BELOW
    lines = [
        replace(x, score=low) if "小写" in x.text or BUYER in x.text or "买方贸易" in x.text else x
        for x in invoice_lines()
    ]
    ex = extract_invoice(lines)
    # The total agrees with amount + tax, the tax id passes its check character: accepted.
    assert ex.fields["total"].accepted == "1130.00"
    assert ex.fields["buyer_tax_id"].accepted == BUYER
    # A name has no independent check.
    assert ex.for_review == ["buyer_name"]
    lines = [replace(x, score=CHECKED_BELOW - 0.01) if "小写" in x.text else x for x in lines]
    assert extract_invoice(lines).for_review == ["buyer_name", "total"]


def test_a_scope_without_its_full_stop_before_the_closing_sentence_goes_to_a_person() -> None:
    items = "钢材的销售;货物进出口"
    closing = "(依法须经批准的项目,经相关部门批准后方可开展经营活动)"
    assert parse_scope(f"{items}。{closing}") == (f"{items}。{closing}", "")
    value, why = parse_scope(f"{items}{closing}")
    assert value == f"{items}{closing}" and why.startswith("no 。 before (依法须经批准的项目")
    assert parse_scope(items) == (items, "")  # no closing sentence: nothing to check
