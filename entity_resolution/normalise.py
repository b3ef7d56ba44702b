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
import phonenumbers
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


def normalise_phone(raw: str, country: str = "") -> str:
    """A phone number in E.164 (+442079460958), read as dialled in ``country`` (ISO 3166
    alpha-2; China when not given): "+44 20 7946 0958" and "020 7946 0958" in GB are one
    number, "020 7946 0958" in China is Guangzhou's.

    Chinese numbers (the bulk of every load) take a fast path: digits without the +86/0086
    prefix or the trunk 0 of an area code, behind +86 - what `phonenumbers` gives for them
    at a hundredth of the cost. Everything else goes through `phonenumbers`; a number it
    cannot read keeps its digits (without leading zeros), so it still meets its twin.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    region = (country or "CN").strip().upper()
    foreign_prefix = (text.startswith("+") or digits.startswith("00")) and not (
        digits.startswith("86") or digits.startswith("0086"))
    if region == "CN" and not foreign_prefix:
        for prefix in ("0086", "86"):
            if digits.startswith(prefix) and len(digits) - len(prefix) >= 10:
                digits = digits[len(prefix):]
                break
        return "+86" + digits.lstrip("0")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return digits.lstrip("0")
    if not phonenumbers.is_possible_number(number):
        return digits.lstrip("0")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Words of Latin-script addresses in one spelling each (the postal abbreviations): 119
# Sullivan Street / 119 Sullivan St, 854 Seventh Avenue / 854 7th Ave.
_ADDRESS_WORDS = {
    "street": "st", "saint": "st", "avenue": "ave", "av": "ave", "road": "rd",
    "boulevard": "blvd", "blv": "blvd", "lane": "ln", "drive": "dr", "place": "pl",
    "square": "sq", "court": "ct", "highway": "hwy", "parkway": "pkwy", "terrace": "ter",
    "suite": "ste", "floor": "fl", "building": "bldg", "east": "e", "west": "w",
    "north": "n", "south": "s", "first": "1st", "second": "2nd", "third": "3rd",
    "fourth": "4th", "fifth": "5th", "sixth": "6th", "seventh": "7th", "eighth": "8th",
    "ninth": "9th", "tenth": "10th",
}


def normalise_address(raw: str) -> str:
    """Comparable address text. Chinese: base text without punctuation or spaces. Latin
    script: its words in postal abbreviations, in order, once each, separated by spaces."""
    text = base_text(raw)
    if has_cjk(text) or not text:
        return _PUNCT.sub("", text).replace("(", "").replace(")", "")
    words = re.findall(r"[a-z0-9]+", text.replace("'", ""))
    return " ".join(dict.fromkeys(_ADDRESS_WORDS.get(w, w) for w in words))


def addresses_agree(a: str, b: str) -> bool:
    """Two comparable addresses (`normalise_address`) of one place: equal, or, in Latin
    script, one's words among the other's with the same house number (a postcode, district
    or city added: 11 Langley St / 11 Langley St WC2H 9JG)."""
    if a == b:
        return bool(a)
    if " " not in a or " " not in b:
        return False
    wa, wb = a.split(), b.split()
    short, long = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    numbers = [w for w in short if w[0].isdigit()]
    return len(short) >= 3 and bool(numbers) and set(short) <= set(long)


def normalise_person_name(raw: str) -> str:
    """A person's name: simplified, half width, no spaces or middle dots (阿卜杜·热合曼)."""
    return _PUNCT.sub("", base_text(raw))
