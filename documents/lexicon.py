"""Words to settle the recogniser's doubts with.

RapidOCR's recogniser cannot read some rare characters even on a clean page: it writes 牛体
for 牛胴体 and 钢坏 for 钢坯, with a line confidence over 0.98. Its decoder (`documents.ocr`)
says where it hesitated: a character read with low probability (坏 0.63, or 坯 0.36), or a
frame between two characters where it saw one and wrote none (after 牛: 桐 0.14, 嗣 0.08).
`settle` resolves such a doubt only when the words a licence's business scope is made of
leave exactly one way to do it:

- a doubted character is kept when it makes a word of the lexicon there and none of the
  recogniser's alternatives does; it is replaced by one of the alternatives when that, and
  no other alternative, makes a word there and the character read makes none. A word cut by
  the line's start or end counts by the part in the line (three characters at least);
- at a missing character, one character is inserted when every word of the lexicon that
  spans the gap (with text on both sides of it) agrees on that character.

Everything else stays a doubt: a strong one sends the field it falls in to a person
(`documents.fields`), a weak one is let be (`documents.ocr.Doubt.strong`).

The lexicon is the standard phrases of business scopes (the State Administration for Market
Regulation's catalogue of standard scope wording, in the part a trading or manufacturing
firm uses; `STANDARD_SCOPE`) and the goods the platform knows (the graph's `Goods` names,
`graph.queries.documents.goods_names`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from documents.ocr import Doubt, Line

# Standard wording of business scopes (经营范围规范表述), as a licence prints it: the phrases
# and the activity patterns around a goods name. A subset of the catalogue.
STANDARD_SCOPE: tuple[str, ...] = (
    "一般项目", "许可项目", "货物进出口", "技术进出口", "进出口代理", "国内贸易代理",
    "销售代理", "供应链管理服务", "企业管理咨询", "信息咨询服务（不含许可类信息咨询服务）",
    "仓储服务（不含危险化学品）", "普通货物仓储服务（不含危险化学品等需许可审批的项目）",
    "道路货物运输（不含危险货物）", "机械设备租赁", "机械设备销售", "日用百货销售",
    "技术服务、技术开发", "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
    "农业技术推广服务", "矿产资源勘查", "工程管理服务", "建筑材料销售", "房地产开发经营",
    "物业管理", "住房租赁", "五金产品批发", "五金产品零售", "金属材料销售",
    "化工产品销售（不含许可类化工产品）", "塑料制品销售", "电子产品销售", "汽车零配件批发",
    "通用设备制造（不含特种设备制造）", "农副产品销售", "食用农产品批发", "食用农产品零售",
    "纺织品销售", "的制造、加工和销售", "的种植、养殖和销售", "的开采、洗选和销售",
    "的批发和零售", "的销售",
    "（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
)  # fmt: skip


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Words (in the read form: NFKC, no spaces) of two characters or more."""

    words: frozenset[str]

    @classmethod
    def of(cls, *sources: Iterable[str]) -> Lexicon:
        words = {_norm(w) for src in sources for w in src}
        return cls(frozenset(w for w in words if len(w) >= 2))

    def covers(self, text: str, i: int) -> bool:
        """Whether a word of the lexicon is in ``text`` over position ``i``. A line of print
        may cut a word: one that runs over the line's start or end counts when at least
        three of its characters (both of a two-character word) are in the line."""
        for w in self.words:
            need = min(len(w), 3)
            for s in range(i - len(w) + 1, i + 1):
                lo, hi = max(s, 0), min(s + len(w), len(text))
                if hi - lo >= need and text[lo:hi] == w[lo - s : hi - s]:
                    return True
        return False

    def fills(self, before: str, after: str) -> set[str]:
        """The characters ``x`` for which a word ``a + x + b`` of the lexicon has ``a``
        ending ``before`` and ``b`` starting ``after``, both not empty."""
        out = set()
        for w in self.words:
            for j in range(1, len(w) - 1):
                if before.endswith(w[:j]) and after.startswith(w[j + 1 :]):
                    out.add(w[j])
        return out


def scope_lexicon(goods: Iterable[str] = ()) -> Lexicon:
    """The standard scope phrases and ``goods`` (names of goods the platform knows)."""
    return Lexicon.of(STANDARD_SCOPE, goods)


def _settle_one(text: str, d: Doubt, lexicon: Lexicon) -> str | None:
    """``text`` with the doubt resolved, or None when the lexicon does not decide it."""
    norm = [_norm(c) for c in text]
    if d.missing:
        before, after = "".join(norm[: d.at]), "".join(norm[d.at :])
        fills = lexicon.fills(before, after)
        return text[: d.at] + fills.pop() + text[d.at :] if len(fills) == 1 else None
    word = "".join(norm)
    at = len("".join(norm[: d.at]))
    makes = [c for c, _ in d.alternatives
             if len(c) == 1 and lexicon.covers(word[:at] + c + word[at + 1 :], at)]  # fmt: skip
    if lexicon.covers(word, at):  # the character read makes a word: confirmed, if alone
        return None if makes else text
    return text[: d.at] + makes[0] + text[d.at + 1 :] if len(makes) == 1 else None


def settle(line: Line, lexicon: Lexicon) -> Line:
    """``line`` with each doubt the lexicon resolves resolved (its text changed, the doubt
    gone, later doubts moved along); the others kept."""
    if not line.doubts or not lexicon.words:
        return line
    text, kept = line.text, []
    for d in sorted(line.doubts, key=lambda d: d.at, reverse=True):  # right to left
        settled = _settle_one(text, d, lexicon)
        if settled is None:
            kept.append(d)
            continue
        shift = len(settled) - len(text)
        kept = [replace(k, at=k.at + shift) for k in kept]
        text = settled
    return replace(line, text=text, doubts=tuple(sorted(kept, key=lambda d: d.at)))


def settle_all(lines: Sequence[Line], lexicon: Lexicon | None) -> list[Line]:
    return list(lines) if lexicon is None else [settle(ln, lexicon) for ln in lines]
