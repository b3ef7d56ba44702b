"""The recogniser's doubts: where it hesitated over a character (the real recogniser on
characters it cannot read), and how the lexicon of business-scope words settles a doubt
only when exactly one reading makes a word, the field going to a person otherwise."""

from __future__ import annotations

import io
import random
from dataclasses import replace

import pytest
from PIL import Image, ImageDraw

from documents.fields import DocumentKind, extract
from documents.lexicon import Lexicon, scope_lexicon, settle
from documents.ocr import Doubt, Line, Recogniser
from documents.synth import damage, font
from tests.documents.test_fields import licence_lines

# What RapidOCR writes for 牛胴体的制造 and 钢坯的制造 (with the doubts its decoder keeps).
MISSING = Line("牛体的制造、加工和销售", 0, 0, 600, 40, 0.996,
               (Doubt(1, True, 0.66, (("桐", 0.14), ("嗣", 0.08))),))  # fmt: skip
MISREAD = Line("钢坏的制造、加工和销售", 0, 0, 600, 40, 0.985,
               (Doubt(1, False, 0.63, (("坯", 0.36),)),))  # fmt: skip


def test_a_missing_character_is_filled_when_one_word_spans_the_gap() -> None:
    got = settle(MISSING, scope_lexicon(["牛胴体", "钢坯"]))
    assert (got.text, got.doubts) == ("牛胴体的制造、加工和销售", ())
    assert got.score == MISSING.score


def test_a_misread_character_takes_the_one_alternative_that_makes_a_word() -> None:
    got = settle(MISREAD, scope_lexicon(["钢坯"]))
    assert (got.text, got.doubts) == ("钢坯的制造、加工和销售", ())


def test_a_doubted_character_that_makes_a_word_is_confirmed() -> None:
    # 坯 read at 0.59 (or 坏 0.40): 钢坯 is a word, 钢坏 is not. A word cut by the line's
    # start counts by its part in the line.
    read = Line("钢坯的制造", 0, 0, 200, 40, 0.97, (Doubt(1, False, 0.59, (("坏", 0.40),)),))
    assert settle(read, scope_lexicon(["钢坯"])).doubts == ()
    tail = Line("的项目，经相关部门批准后方可开展经营活动）", 0, 0, 900, 40, 0.99,
                (Doubt(20, False, 0.80, (("》", 0.07),)),))  # fmt: skip
    assert settle(tail, scope_lexicon()).doubts == ()
    assert settle(tail, Lexicon.of(["经营活动"])) == tail  # it ends before the bracket


def test_a_weak_doubt_is_for_the_lexicon_alone() -> None:
    # Read at 0.93: the lexicon may settle it, but left alone it sends nothing to a person.
    weak = replace(MISREAD, doubts=(Doubt(1, False, 0.93, (("坯", 0.06),)),))
    assert not weak.doubts[0].strong and MISREAD.doubts[0].strong
    assert settle(weak, scope_lexicon(["钢坯"])).text.startswith("钢坯")
    assert extract(DocumentKind.LICENCE, _scope_lines(weak)).for_review == []


def test_a_doubt_the_lexicon_does_not_decide_stays() -> None:
    # Two words span the gap with different characters; no word at all; the character read
    # already makes a word; an alternative the recogniser did not see is not invented.
    for line, words in [
        (MISSING, ["牛胴体", "牛肢体"]),
        (MISSING, ["钢坯"]),
        (MISREAD, ["钢坏", "钢坯"]),
        (MISREAD, ["钢锭"]),
    ]:
        assert settle(line, scope_lexicon(words)) == line, words
    assert settle(MISSING, Lexicon(frozenset())) == MISSING


def test_later_doubts_move_with_an_inserted_character() -> None:
    later = Doubt(5, False, 0.5, (("x", 0.4),))
    line = replace(MISSING, doubts=(*MISSING.doubts, later))
    got = settle(line, Lexicon.of(["牛胴体"]))
    assert got.text == "牛胴体的制造、加工和销售" and got.doubts == (replace(later, at=6),)
    assert got.text[6] == line.text[5]


def _scope_lines(line: Line) -> list[Line]:
    lines = licence_lines()
    i = next(i for i, x in enumerate(lines) if x.text.startswith("钢材"))
    lines[i] = replace(line, x0=lines[i].x0, y0=lines[i].y0, x1=lines[i].x1, y1=lines[i].y1)
    return lines


def test_a_field_with_a_doubt_left_goes_to_a_person() -> None:
    lines = _scope_lines(MISREAD)
    scope = extract(DocumentKind.LICENCE, lines).fields["business_scope"]
    assert scope.needs_review and scope.accepted is None
    assert scope.reason == "doubted: 坏 read at 0.63 (or 坯 0.36)"
    settled = extract(DocumentKind.LICENCE, lines, lexicon=scope_lexicon(["钢坯"]))
    assert str(settled.accepted("business_scope")).startswith("钢坯的制造")
    assert settled.for_review == []


def test_a_doubt_in_a_checked_value_or_a_label_does_not_send_it() -> None:
    lines = licence_lines()
    i = next(i for i, x in enumerate(lines) if x.text.startswith("统一社会信用代码"))
    # A doubt in the label (统一…) and one in the code, whose check character still holds.
    lines[i] = replace(lines[i], doubts=(Doubt(1, False, 0.6, (("二", 0.3),)),
                                         Doubt(12, False, 0.7, (("8", 0.2),))))  # fmt: skip
    assert extract(DocumentKind.LICENCE, lines).for_review == []


def _scan(text: str, seed: int) -> Image.Image:
    img = Image.new("RGB", (40 * len(text) + 120, 140), "white")
    ImageDraw.Draw(img).text((60, 50), text, font=font(34), fill="black")
    data, _ = damage(img, random.Random(seed))  # turned, blurred, JPEG 60: a scan
    return Image.open(io.BytesIO(data))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("printed", "read", "doubt"),
    [
        ("牛胴体的制造、加工和销售", "牛体的制造、加工和销售", (1, True)),
        ("钢坯的制造、加工和销售", "钢坏的制造、加工和销售", (1, False)),
    ],
)
def test_the_recogniser_doubts_where_it_cannot_read(
    printed: str, read: str, doubt: tuple[int, bool]
) -> None:
    # RapidOCR does not read 胴 or 坯 on a scan, and its line confidence stays high. On ten
    # scans of each (one line alone) a doubt is there at the right place and nowhere else;
    # a strong one (that would send the value to a person) on about half (4 and 5 of 10
    # when this was written), a weak one on the rest. Settled, every one reads right.
    strong = 0
    for seed in range(1, 11):
        (line,) = Recogniser().lines(_scan(printed, seed))
        assert line.text == read and line.score > 0.95
        assert [(d.at, d.missing) for d in line.doubts] == [doubt], seed
        strong += line.doubts[0].strong
        assert settle(line, scope_lexicon(["牛胴体", "钢坯"])).text == printed
    assert 3 <= strong < 10
