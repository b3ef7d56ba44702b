"""Registration numbers of other countries, as typed identifiers (issue #21).

A record may carry any number of identifiers written ``SCHEME:VALUE`` (in a file, separated
by ``;``): a Legal Entity Identifier (``LEI:5493001KJTIIGC8Y1R12``), a company number of
another registry (``GB-COH:00445790``, ``US-EIN:91-1144442``) - the scheme names are the
caller's, kept as given in upper case. An LEI is checked as ISO 17442 prescribes (20
characters, the last two check digits by ISO 7064 MOD 97-10); one that fails is flagged and
left out, since a mistyped LEI proves nothing. Other schemes are opaque: spaces, dots and
dashes are dropped and letters upper-cased, nothing more.

Two records that give the same value under one scheme are one legal entity; two that give
different values under one scheme are two (`typed_conflict`), whatever their names say.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

LEI = "LEI"
_LEI_FORM = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")
_SCHEME = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")
_NOISE = re.compile(r"[\s.\-/]")


def lei_check_digits(body: str) -> str:
    """The two ISO 17442 check digits of an 18-character LEI body (ISO 7064 MOD 97-10)."""
    digits = "".join(str(int(c, 36)) for c in body.upper() + "00")
    return f"{98 - int(digits) % 97:02d}"


def lei_valid(code: str) -> bool:
    """Whether ``code`` is a well-formed LEI whose check digits agree."""
    code = code.strip().upper()
    if not _LEI_FORM.match(code):
        return False
    return int("".join(str(int(c, 36)) for c in code)) % 97 == 1


def typed_keys(raw: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(``SCHEME:VALUE`` keys, problems) from identifiers as given; sorted, no duplicates."""
    keys: set[str] = set()
    problems: list[str] = []
    for item in raw:
        item = item.strip()
        if not item:
            continue
        scheme, sep, value = item.partition(":")
        scheme = scheme.strip().upper()
        value = _NOISE.sub("", value).upper()
        if not sep or not _SCHEME.match(scheme) or not value:
            problems.append(f"identifier {item!r}: expected SCHEME:VALUE")
            continue
        if scheme == LEI and not lei_valid(value):
            problems.append(f"identifier {item!r}: not a valid LEI (ISO 17442 check failed)")
            continue
        keys.add(f"{scheme}:{value}")
    return tuple(sorted(keys)), tuple(problems)


def _by_scheme(keys: Iterable[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for key in keys:
        scheme, _, value = key.partition(":")
        out.setdefault(scheme, set()).add(value)
    return out


def typed_shared(a: Iterable[str], b: Iterable[str]) -> str:
    """The first identifier both sides give ('' when none)."""
    return min(set(a) & set(b), default="")


def typed_conflict(a: Iterable[str], b: Iterable[str]) -> str:
    """The scheme under which the two sides give only different values ('' when none)."""
    sa, sb = _by_scheme(a), _by_scheme(b)
    for scheme in sorted(sa.keys() & sb.keys()):
        if not sa[scheme] & sb[scheme]:
            return scheme
    return ""
