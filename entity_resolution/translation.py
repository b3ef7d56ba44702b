"""How far an English firm name and a Chinese one say the same thing, word by word.

An English name renders a Chinese trade name in three ways, often mixed: by sound (Haitong
= 海通, Wuliangye = 五粮液, Moutai ≈ 茅台), by meaning (Great Wall = 长城, China Southern
= 中国南方, New Hope = 新希望) and by initials (BYD = 比亚迪). `cross_script_cover` aligns
the English trade words with the characters of the Chinese trade name using all three and
says which share of each side found its counterpart. Only generic vocabulary is used
(lexicons/translations.txt, industry.txt, regions.txt): a pair matches by what its words
mean, not because a table knows the firm.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache

from pypinyin import Style, lazy_pinyin
from rapidfuzz.distance import JaroWinkler

from entity_resolution.lexicons import load
from entity_resolution.lexicons import translations as translation_table
from entity_resolution.parse import NameParts

# Words that carry no trade name of their own in an English name.
_STOP = frozenset({"the", "of", "and", "&", "china", "chinese", "sino", "prc", "co", "inc",
                   "ltd", "company", "limited", "corporation", "corp", "incorporated"})
# English words for China: they may stand for a leading 中/华/中国/中华 of the trade name
# (China Railway = 中铁), which the English parse drops.
_CHINA_WORDS = frozenset({"china", "chinese", "sino"})
_CHINA_CHARS = ("中国", "中华", "中", "华")
_MAX_PHRASE = 3
# Sound: a romanised word against the pinyin of a run of characters.
_SOUND_SIMILARITY = 0.88
_SOUND_MIN_LETTERS = 4


@cache
def _lexicon() -> dict[str, tuple[str, ...]]:
    """English word or phrase -> Chinese words it may translate (longest first)."""
    lex = load()
    out: dict[str, set[str]] = {}
    for zh, phrases in translation_table().items():
        for phrase in phrases:
            out.setdefault(phrase, set()).add(zh)
    for phrase, zh in lex.industry_by_english.items():
        out.setdefault(phrase, set()).add(zh)
    for roman, region in lex.regions_by_roman.items():
        out.setdefault(roman, set()).add(region.name)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in out.items()}


@lru_cache(maxsize=200_000)
def _syllables(text: str) -> tuple[str, ...]:
    return tuple(s.lower() for s in lazy_pinyin(text))


@lru_cache(maxsize=200_000)
def _initials(text: str) -> str:
    return "".join(s[:1] for s in lazy_pinyin(text, style=Style.FIRST_LETTER)).lower()


def _free(covered: list[bool], start: int, length: int) -> bool:
    return not any(covered[start : start + length])


def _find(target: str, covered: list[bool], word: str) -> int:
    """The first uncovered occurrence of ``word`` in ``target`` (-1 if none)."""
    start = target.find(word)
    while start >= 0:
        if _free(covered, start, len(word)):
            return start
        start = target.find(word, start + 1)
    return -1


def _by_sound(target: str, covered: list[bool], word: str, fuzzy: bool) -> tuple[int, int]:
    """The run of uncovered characters whose pinyin (or, with ``fuzzy``, a close spelling
    of it, or its initials) matches ``word``: (start, length), or (-1, 0)."""
    syllables = _syllables(target)
    best, best_score = (-1, 0), 0.0
    for start in range(len(target)):
        for length in range(1, len(target) - start + 1):
            if not _free(covered, start, length):
                break
            sound = "".join(syllables[start : start + length])
            if sound == word:
                score = 3.0 + length
            elif not fuzzy:
                continue
            elif (len(word) >= _SOUND_MIN_LETTERS and length >= 2
                  and JaroWinkler.similarity(sound, word) >= _SOUND_SIMILARITY):
                score = 1.0 + JaroWinkler.similarity(sound, word)  # Moutai ~ maotai
            elif (2 <= len(word) <= 4 and length == len(word)
                  and _initials(target[start : start + length]) == word):
                score = 1.0  # BYD = 比亚迪
            else:
                continue
            if score > best_score:
                best, best_score = (start, length), score
    return best


def _cover(target: str, covered: list[bool], chinese: str) -> bool:
    at = _find(target, covered, chinese)
    if at >= 0:
        covered[at : at + len(chinese)] = [True] * len(chinese)
    return at >= 0


def _match_words(words: list[str], target: str, covered: list[bool], elsewhere: str,
                 matched: list[bool]) -> None:
    """Mark the English words (and the characters of ``target``) that correspond, in passes
    from the surest to the loosest: a translation, the exact pinyin, a close spelling or
    initials, one character of a translation (中国铁建: 铁路 -> 铁)."""
    lexicon = _lexicon()

    def each_phrase(max_n: int) -> list[tuple[int, int, str]]:
        out = []
        for n in range(max_n, 0, -1):
            for i in range(len(words) - n + 1):
                if not any(matched[i : i + n]):
                    out.append((i, n, " ".join(words[i : i + n])))
        return out

    def by_meaning(phrase: str, abbreviated: bool) -> bool:
        for chinese in lexicon.get(phrase, ()):
            if abbreviated:
                if len(chinese) >= 2 and _cover(target, covered, chinese[0]):
                    return True
            elif _cover(target, covered, chinese):
                return True
            elif chinese in elsewhere:
                return True  # Air China: air is the 航空 of the industry word
        return False

    def by_sound(phrase: str, fuzzy: bool) -> bool:
        start, length = _by_sound(target, covered, phrase.replace(" ", ""), fuzzy)
        if start >= 0:
            covered[start : start + length] = [True] * length
        return start >= 0

    passes: tuple[tuple[int, Callable[[str, bool], bool], bool], ...] = (
        (_MAX_PHRASE, by_meaning, False),
        (_MAX_PHRASE, by_sound, False),
        (1, by_sound, True),
        (_MAX_PHRASE, by_meaning, True),
    )
    for max_n, rule, loose in passes:
        for i, n, phrase in each_phrase(max_n):
            if not any(matched[i : i + n]) and rule(phrase, loose):
                matched[i : i + n] = [True] * n


def cross_script_cover(en: NameParts, zh: NameParts) -> tuple[float, float]:
    """(share of the English trade and industry words, share of the Chinese trade name's
    characters) that find a counterpart on the other side, by meaning, sound or initials.
    Banks are left out: their names are compared through the bank lexicon."""
    target = zh.trade
    words = [w for w in en.trade.split() if w not in ("(", ")") and w not in _STOP]
    if not target or en.bank or zh.bank:
        return 0.0, 0.0
    covered = [False] * len(target)
    matched = [False] * len(words)
    _match_words(words, target, covered, zh.industry + "|" + zh.region, matched)
    # The English industry words: inside the Chinese trade name (中国铁建: construction ->
    # 建设 -> 建), or among its industry words; else they speak against.
    industry = _industry_words(en.industry)
    found = 0
    for chinese in industry:
        if (_cover(target, covered, chinese) or chinese in zh.industry
                or (chinese[0] not in zh.industry and _cover(target, covered, chinese[0]))):
            found += 1
    if en.region:
        _cover(target, covered, en.region)  # a region the Chinese parse left in the trade name
    if any(w in _CHINA_WORDS for w in en.text.split()):
        for chinese in _CHINA_CHARS:
            if target.startswith(chinese) and _free(covered, 0, len(chinese)):
                covered[: len(chinese)] = [True] * len(chinese)
                break
    units = len(words) + len(industry)
    if not units:
        return 0.0, 0.0
    return (sum(matched) + found) / units, sum(covered) / len(target)


def _industry_words(industry: str) -> list[str]:
    """An industry string split back into its lexicon words, longest first."""
    words = load().industry
    out, i = [], 0
    while i < len(industry):
        for length in range(min(6, len(industry) - i), 0, -1):
            if industry[i : i + length] in words or length == 1:
                out.append(industry[i : i + length])
                i += length
                break
    return out
