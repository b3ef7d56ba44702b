"""Normalising firm names and contact fields before parsing and comparison.

Two spellings of one firm differ in ways that carry no meaning: full- and half-width
characters, traditional and simplified script, bracket styles, punctuation, letter case,
English abbreviations (Co., Ltd.; INTL) and bank short names (农行). These functions remove
such differences; what remains is compared by `parse` and `score`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import lazy_pinyin

from entity_resolution.lexicons import load

_T2S = opencc.OpenCC("t2s")
_CJK = re.compile(r"[\u3400-\u9fff]")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")",
                           "{": "(", "}": ")", "（": "(", "）": ")", "<": "(", ">": ")",
                           "《": "(", "》": ")"})
# Punctuation that never distinguishes two firms; '&' is kept for English (A & B).
_PUNCT = re.compile(r"[\s·•.,，、。;；:：'\"“”‘’「」『』…—`!！?？*\-_/\\|~@#%^=+]+")
_SPACES = re.compile(r"\s+")
_LATIN_WORD = re.compile(r"[a-z0-9&']+")
_BANK_BRANCH_SUFFIXES = ("支行", "分行", "营业部", "分理处", "银行")


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


@lru_cache(maxsize=200_000)
def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese (opencc t2s); other scripts pass through."""
    return _T2S.convert(text) if has_cjk(text) else text


def base_text(raw: str) -> str:
    """NFKC (full to half width), simplified script, lower case, one bracket style."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = to_simplified(text).translate(_BRACKETS).lower()
    return _SPACES.sub(" ", text).strip()


def expand_bank_alias(text: str) -> str:
    """Replace a leading bank short name (农行, 工行...) by the bank's registered name.

    Short names that are also ordinary words (华夏, 平安) are expanded only when a bank
    word or branch suffix follows, so 华夏建设有限公司 stays as it is.
    """
    lex = load()
    for bank in lex.banks:
        if text.startswith(bank.name):
            return text
    for bank in lex.banks:
        for abbr in bank.abbreviations:
            if text.startswith(abbr):
                rest = text[len(abbr):]
                if rest.startswith("银行"):
                    rest = rest[2:]
                strong = abbr.endswith(("行", "银行"))
                if strong or rest == "" or rest.endswith(_BANK_BRANCH_SUFFIXES):
                    return bank.name + rest
    return text


def chinese_name(raw: str) -> str:
    """The comparable form of a Chinese name: base text without punctuation or spaces,
    brackets kept (they mark a region or a partnership kind), bank short names expanded."""
    text = _PUNCT.sub("", base_text(raw))
    text = text.replace("()", "")
    return expand_bank_alias(text)


def english_words(raw: str) -> list[str]:
    """Lower-case words of an English name with abbreviations expanded (INTL -> international)."""
    lex = load()
    text = base_text(raw).replace("(", " ( ").replace(")", " ) ")
    # Accents dropped (Nestlé = Nestle).
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words: list[str] = []
    text = text.replace("'", "").replace("’", "")
    for token in text.replace(".", " ").replace(",", " ").split():
        if token in ("(", ")"):
            words.append(token)
            continue
        for word in _LATIN_WORD.findall(token):
            expanded = lex.english_abbr.get(word, word)
            words.extend(expanded.split())
    return words


@lru_cache(maxsize=500_000)
def pinyin_key(text: str) -> str:
    """Tone-less pinyin of Chinese characters, latin letters and digits kept, no spaces:
    拓搏 -> 'tuobo', 'Tuo Bo' -> 'tuobo'. Lets an English transliteration meet its Chinese name."""
    if not text:
        return ""
    if not has_cjk(text):
        return re.sub(r"[^a-z0-9]", "", text.lower())
    return re.sub(r"[^a-z0-9]", "", "".join(lazy_pinyin(text)).lower())


def normalise_phone(raw: str) -> str:
    """Digits only, without the +86/0086 country prefix or a leading trunk 0 of an area code."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", raw or ""))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
            digits = digits[len(prefix):]
            break
    return digits.lstrip("0")


def normalise_address(raw: str) -> str:
    """Comparable address text: base text without punctuation or spaces."""
    return _PUNCT.sub("", base_text(raw)).replace("(", "").replace(")", "")


def normalise_person_name(raw: str) -> str:
    """A person's name: simplified, half width, no spaces or middle dots (阿卜杜·热合曼)."""
    return _PUNCT.sub("", base_text(raw))
