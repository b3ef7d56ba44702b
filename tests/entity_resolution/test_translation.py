"""English names against Chinese ones by meaning, sound and initials (`translation`), and
the monotone constraints of the learned weights (`training.fit_logistic`). The names are
made up for the test, none is in the development benchmark."""

from __future__ import annotations

import numpy as np
import pytest

from entity_resolution.match import match
from entity_resolution.parse import parse_name
from entity_resolution.score import FEATURES, SIGNS
from entity_resolution.training import fit_logistic
from entity_resolution.translation import cross_script_cover


def cover(english: str, chinese: str) -> tuple[float, float]:
    return cross_script_cover(parse_name(english), parse_name(chinese))


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Golden Dragon Bus Co., Ltd.", "金龙客车有限公司"),  # meaning
        ("Blue Sky Environmental Technology Co., Ltd.", "蓝天环保科技有限公司"),
        ("Tsingtao Brewery Co., Ltd.", "青岛啤酒股份有限公司"),  # old spelling of 青岛
        ("HXT Co., Ltd.", "华信通有限公司"),  # initials of the pinyin
        ("Hengxin New Energy Co., Ltd.", "恒信新能源有限公司"),  # sound
    ],
)
def test_translations_cover_both_names(english: str, chinese: str) -> None:
    assert cover(english, chinese) == (1.0, 1.0)


def test_a_word_left_over_on_both_sides_is_no_translation() -> None:
    en, zh = cover("Golden Dragon Bus Co., Ltd.", "银龙客车有限公司")
    assert en < 1.0 and zh < 1.0
    # An industry word of the English name that the Chinese one lacks counts against.
    en, zh = cover("Eastern River Power Co., Ltd.", "东方河证券股份有限公司")
    assert en < 1.0
    assert cover("Eastern Airlines Co., Ltd.", "南方航空股份有限公司")[1] == 0.0


def test_translated_names_match_and_look_alikes_do_not() -> None:
    same = match("Golden Dragon Bus Co., Ltd.", "金龙客车有限公司")
    assert same.same and "cross_script_translated" in same.agreed
    for other in ("银龙客车有限公司", "金龙证券有限公司", "宇通客车有限公司"):
        assert not match("Golden Dragon Bus Co., Ltd.", other).same, other
    assert not match("Intel (China) Ltd.", "微软(中国)有限公司").same


def test_banks_are_left_to_the_bank_lexicon() -> None:
    assert cover("China Merchants Bank Co., Ltd.", "招商证券股份有限公司") == (0.0, 0.0)


def test_fit_keeps_the_declared_signs() -> None:
    """A conflict that happens to come with matches in the data still gets no positive
    weight, and an agreement no negative one."""
    rng = np.random.default_rng(7)
    n = 4000
    x = np.zeros((n, len(FEATURES)))
    y = rng.integers(0, 2, n)
    conflict, agree = FEATURES.index("industry_conflict"), FEATURES.index("phone_same")
    x[:, conflict] = (y == 1) & (rng.random(n) < 0.5)  # spuriously with matches
    x[:, agree] = (y == 0) & (rng.random(n) < 0.5)  # spuriously with non-matches
    x[:, FEATURES.index("trade_exact")] = (y == 1) & (rng.random(n) < 0.8)
    free_w, _ = fit_logistic(x, y, np.ones(n), signs={})
    assert free_w[conflict] > 0 and free_w[agree] < 0
    w, _ = fit_logistic(x, y, np.ones(n))
    assert SIGNS["industry_conflict"] < 0 < SIGNS["phone_same"]
    assert w[conflict] <= 0.0 and w[agree] >= 0.0
    assert w[FEATURES.index("trade_exact")] > 1.0
