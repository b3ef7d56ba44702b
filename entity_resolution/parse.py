"""Splitting a firm name into region, trade name (字号), industry word, legal form and branch.

A spaCy pipeline does it: ``spacy.blank("zh")`` with the character segmenter (no model to
download) followed by rule components registered below, each of which peels one part off the
name using the lexicons in ``entity_resolution/lexicons``. The parts are left on the Doc as
spans in ``doc.spans["name_parts"]`` and as a :class:`NameParts` in ``doc._.name_parts``.

Chinese names read region + trade name + industry + legal form (+ branch), with the region
also allowed in brackets after the trade name (拓搏国际贸易(宁波)有限公司). English names read
the same way in their own words (Ningbo Tuobo International Trading Co., Ltd.).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from entity_resolution.lexicons import load
from entity_resolution.normalise import chinese_name, english_words, has_cjk, pinyin_key

PART_LABELS = ("REGION", "TRADE", "INDUSTRY", "FORM", "BRANCH")
_BRACKET = re.compile(r"\(([^()]*)\)")
_ENGLISH_FORM_WORDS = frozenset({"limited", "ltd", "co", "company", "corporation", "inc"})
_ENGLISH_BRANCH_WORDS = {"branch", "sub", "subbranch", "office", "representative", "rep"}


@dataclass(frozen=True, slots=True)
class NameParts:
    """The parts of one firm name; empty strings where a part is absent."""

    text: str  # the normalised name the parts come from
    is_english: bool
    region: str  # canonical Chinese region name (宁波), also for English names
    region_code: str  # GB/T 2260 prefix of that region
    trade: str  # 字号: Chinese characters, or English words joined by spaces
    trade_key: str  # pinyin (or latin letters) of the trade name, no spaces
    industry: str  # Chinese industry words, also for English names (trading -> 贸易)
    industry_key: str  # industry with synonyms folded (技术 -> 科技, 商贸 -> 贸易)
    legal_form: str  # canonical Chinese legal form (有限公司 -> 有限责任公司)
    branch: str  # branch designation (上海分公司, 北京海淀支行)
    branch_key: str  # pinyin of the branch without its suffix, for cross-language compare
    bank: str  # canonical bank name when the firm is a bank
    # The place written in brackets after the trade name, or after an English legal form
    # (微软(中国), Siemens Ltd., China): 中国 or a region's name. A firm named for its place
    # is often the local arm of the firm of the bare name.
    placed: str = ""

    @property
    def base(self) -> str:
        """The name without its branch part: the parent's name for a branch."""
        return "|".join((self.region, self.trade_key, self.industry, self.legal_form))


@dataclass(slots=True)
class _State:
    core: str
    is_english: bool
    text: str = ""
    words: list[str] = field(default_factory=list)
    region: str = ""
    region_code: str = ""
    industry: list[str] = field(default_factory=list)
    legal_form: str = ""
    form_surface: str = ""
    branch: str = ""
    branch_key: str = ""
    bank: str = ""
    trade: str = ""
    group: bool = False  # (集团) written in brackets: an industry word like 集团 at the end
    placed: str = ""


if not Doc.has_extension("name_parts"):
    Doc.set_extension("name_parts", default=None)


def _state(doc: Doc) -> _State:
    # Kept in user_data: reading doc.text or an extension per component is slow.
    state: _State | None = doc.user_data.get("chainlens_name_state")
    if state is None:
        text = doc.text
        english = not has_cjk(text)
        state = _State(core=text, is_english=english, text=text)
        if english:
            state.words = text.split()
        doc.user_data["chainlens_name_state"] = state
    return state


def _set_region(state: _State, name: str, code: str) -> None:
    # Keep the most specific region (a city over its province).
    if len(code) >= len(state.region_code):
        state.region, state.region_code = name, code


# -- Chinese rules -------------------------------------------------------------------------


def _prefix_region(text: str) -> tuple[str, str, int]:
    regions = load().regions
    for length in range(min(8, len(text)), 1, -1):
        region = regions.get(text[:length])
        if region is not None:
            return region.name, region.code, length
    return "", "", 0


def _suffix_region(text: str) -> tuple[str, str, int]:
    regions = load().regions
    for length in range(min(8, len(text)), 1, -1):
        region = regions.get(text[-length:])
        if region is not None:
            return region.name, region.code, length
    return "", "", 0


def _suffix_form(text: str) -> tuple[str, int]:
    forms = load().legal_forms
    for length in range(min(8, len(text)), 0, -1):
        canonical = forms.get(text[-length:])
        if canonical is not None:
            return canonical, length
    return "", 0


def _rule_brackets(state: _State) -> None:
    """Regions (宁波) and partnership kinds (普通合伙) written in brackets."""
    if state.is_english:
        words, kept, inside = state.words, [], False
        for word in words:
            if word == "(":
                inside = True
            elif word == ")":
                inside = False
            elif inside and word in load().regions_by_roman:
                roman = load().regions_by_roman[word]
                _set_region(state, roman.name, roman.code)
                state.placed = roman.name
            elif inside and word == "china":
                state.placed = "中国"  # Microsoft (China) Co., Ltd. = 微软(中国)有限公司
            elif inside and word == "group":
                state.group = True
            else:
                kept.append(word)
        state.words = kept
        return
    lex = load()
    for content in _BRACKET.findall(state.core):
        region = lex.regions.get(content)
        if region is not None:
            _set_region(state, region.name, region.code)
            state.placed = region.name
            state.core = state.core.replace(f"({content})", "", 1)
        elif content in lex.legal_forms:
            state.legal_form = lex.legal_forms[content]
            state.core = state.core.replace(f"({content})", "", 1)
        elif content == "中国":
            state.placed = content
            state.core = state.core.replace(f"({content})", "", 1)
        elif content == "集团":
            state.group = True
            state.core = state.core.replace(f"({content})", "", 1)
    state.core = state.core.replace("(", "").replace(")", "")


def _rule_bank(state: _State) -> None:
    """Banks: the registered bank name is the trade name; the rest names a branch."""
    lex = load()
    if state.is_english:
        joined = " ".join(state.words)
        for alias in sorted((a for a in lex.bank_alias if " " in a), key=len, reverse=True):
            if joined.startswith(alias):
                state.bank = lex.bank_alias[alias]
                state.words = joined[len(alias):].split()
                return
        # Not a bank: "Company of China", "Siemens Ltd., China" - the country adds nothing.
        kept = state.words
        while len(kept) > 2 and kept[-1] == "china":
            if kept[-2] in _ENGLISH_FORM_WORDS:
                state.placed = "中国"  # Siemens Ltd., China
            kept = kept[:-2] if kept[-2] == "of" else kept[:-1]
        for i in range(len(kept) - 2, 0, -1):
            if kept[i] == "of" and kept[i + 1] == "china":
                del kept[i : i + 2]
        state.words = kept
        return
    for bank in lex.banks:
        if state.core.startswith(bank.name):
            state.bank = bank.name
            state.core = state.core[len(bank.name):]
            break


def _rule_branch(state: _State) -> None:
    """A branch designation at the end: everything after the legal form, else a region and
    the suffix (上海分公司), else everything after a bank's name."""
    lex = load()
    if state.is_english:
        words = state.words
        if words and words[-1] in ("branch", "subbranch", "office"):
            # The branch starts after the last legal-form word, else after the bank name.
            start = 0
            for i, word in enumerate(words):
                if word in _ENGLISH_FORM_WORDS:
                    start = i + 1
            branch_words = words[start:]
            state.branch = " ".join(branch_words)
            state.branch_key = "".join(w for w in branch_words if w not in _ENGLISH_BRANCH_WORDS)
            state.words = words[:start]
        return
    core = state.core
    if state.bank and core.endswith("总行"):
        # The head office (总行) is the bank itself, not one of its branches.
        state.core = core = core[:-2]
    suffix = next((s for s in lex.branches if core.endswith(s)), "")
    if not suffix:
        return
    body = core[: -len(suffix)]
    cut = -1
    for surface in sorted(lex.legal_forms, key=len, reverse=True):
        if len(surface) < 2:
            continue
        idx = body.rfind(surface)
        if idx >= 0 and idx + len(surface) > cut:
            cut = idx + len(surface)
    if cut < 0 and state.bank:
        cut = 0
    if cut < 0:
        cut = _branch_start(body)
    state.branch = core[cut:]
    state.branch_key = branch_key(core[cut:], suffix)
    state.core = core[:cut]


def _branch_start(body: str) -> int:
    """Where the branch designation starts in a name without a legal form: after a bank
    word (某某银行|西湖支行), else at the first region named after at least two characters of
    the firm's own name (某某银行|杭州西湖支行, 某某贸易|上海分公司)."""
    idx = body.rfind("银行")
    if idx > 0 and idx + 2 < len(body):
        return idx + 2
    regions = load().regions
    for start in range(2, len(body) - 1):
        for length in range(min(8, len(body) - start), 1, -1):
            if body[start : start + length] in regions:
                return start
    name, _, length = _suffix_region(body)
    return len(body) - length if name else len(body)


def branch_key(branch: str, suffix: str = "") -> str:
    """The comparable key of a branch designation: its pinyin without the final suffix and
    with 市/省/自治区 after a region dropped (北京市分行 and 北京分行 are one branch)."""
    lex = load()
    body = branch[: len(branch) - len(suffix)] if suffix else branch
    out, i = [], 0
    while i < len(body):
        for length in range(min(8, len(body) - i), 1, -1):
            region = lex.regions.get(body[i : i + length])
            if region is not None:
                out.append(region.name)
                i += length
                break
        else:
            out.append(body[i])
            i += 1
    return pinyin_key("".join(out))


def _rule_form(state: _State) -> None:
    """The legal form at the end of the name (有限公司, Co., Ltd.)."""
    if state.is_english:
        words = state.words
        lex = load()
        changed = True
        while changed and words:
            changed = False
            for form in lex.english_forms:
                if len(words) > len(form) and tuple(words[-len(form):]) == form:
                    words = words[: -len(form)]
                    state.legal_form = state.legal_form or _english_form(form)
                    changed = True
                    break
        state.words = words
        return
    canonical, length = _suffix_form(state.core)
    if length and (len(state.core) > length or state.bank):
        state.form_surface = state.core[-length:]
        state.core = state.core[:-length]
        state.legal_form = state.legal_form or canonical
    elif not state.legal_form:
        # A stock short name: 洋河股份, 万科A, 京东方B (no legal form is given).
        stock = _STOCK_SHORT.search(state.core)
        if stock and stock.start() >= 2:
            state.core = state.core[: stock.start()]


_STOCK_SHORT = re.compile(r"(?<=[\u3400-\u9fff])(股份|[ab])$")


# Legal forms of other countries (AG, SE, S.A., N.V., plc): a firm so named is not its
# Chinese subsidiary (BASF SE / BASF (China) Co., Ltd.).
_FOREIGN_FORMS = {("ag",), ("se",), ("sa",), ("s", "a"), ("nv",), ("n", "v"), ("bv",),
                  ("b", "v"), ("gmbh",), ("spa",), ("s", "p", "a"), ("plc",),
                  ("aktiengesellschaft",), ("public", "limited", "company")}


def _english_form(form: tuple[str, ...]) -> str:
    if form in _FOREIGN_FORMS:
        return "外国公司"
    if "stock" in form:
        return "股份有限公司"
    if "limited" in form or "ltd" in form or "llc" in form:
        return "有限责任公司"
    return "公司"


def _rule_region(state: _State) -> None:
    """Administrative regions at the start (浙江省宁波市, Ningbo); 中国/China dropped."""
    lex = load()
    if state.is_english:
        words = state.words
        while len(words) > 1:
            if words[0] == "china":
                words = words[1:]
                continue
            two = words[0] + words[1] if len(words) > 2 else ""
            if two in lex.regions_by_roman:
                region = lex.regions_by_roman[two]
                length = 2
            elif words[0] in lex.regions_by_roman:
                region = lex.regions_by_roman[words[0]]
                length = 1
            else:
                break
            if not _within(state.region_code, region.code):
                break  # Inner Mongolia Yili: Yili is the trade name, not 伊犁 after 内蒙古
            words = words[length:]
            _set_region(state, region.name, region.code)
        state.words = words
        return
    core = state.core
    while len(core) > 2:
        if core.startswith("中国"):
            core = core[2:]
            continue
        name, code, length = _prefix_region(core)
        if not name or len(core) - length < 2 or not _within(state.region_code, code):
            break
        _set_region(state, name, code)
        core = core[length:]
    if len(core) > 3 and core.endswith("中国"):
        core = core[:-2]  # 微软中国有限公司 = 微软(中国)有限公司
    state.core = core


def _within(outer: str, inner: str) -> bool:
    """A second leading region continues the first only inside it (浙江宁波, not 内蒙古伊犁)."""
    return not outer or inner.startswith(outer) or outer.startswith(inner)


def _rule_industry(state: _State) -> None:
    """Industry words at the end of what is left (国际贸易, 科技, trading), keeping at least
    two characters (one English word) of trade name."""
    lex = load()
    if state.is_english:
        words = state.words
        found: list[str] = []
        while len(words) > 1:
            for n in (3, 2, 1):
                if len(words) > n and " ".join(words[-n:]) in lex.industry_by_english:
                    found.insert(0, lex.industry_by_english[" ".join(words[-n:])])
                    words = words[:-n]
                    break
            else:
                break
        # "Tuobo Trading" and "Tuobo" alike: a lone word stays the trade name.
        state.words = words
        state.industry = found
        if state.group and "集团" not in found:
            state.industry.append("集团")
        return
    core = state.core
    found = []
    while len(core) > 2:
        for length in range(min(6, len(core) - 2), 1, -1):
            word = core[-length:]
            if word in lex.industry:
                found.insert(0, word)
                core = core[:-length]
                break
        else:
            break
    state.core = core
    state.industry = found
    if state.group and "集团" not in found:
        state.industry.append("集团")


def _finish(state: _State) -> NameParts:
    """What is left is the trade name."""
    if state.is_english:
        trade = " ".join(w for w in state.words if w not in ("(", ")", "and"))
    else:
        trade = state.core
    if state.bank:
        trade = state.bank
    state.trade = trade
    return NameParts(
        text=state.text,
        is_english=state.is_english,
        region=state.region,
        region_code=state.region_code,
        trade=trade,
        trade_key=pinyin_key(trade),
        industry="".join(state.industry),
        industry_key="".join(_industry_key(w) for w in state.industry),
        legal_form=state.legal_form,
        branch=state.branch,
        branch_key=state.branch_key,
        bank=state.bank,
        placed=state.placed,
    )


RULES = (_rule_brackets, _rule_bank, _rule_branch, _rule_form, _rule_region, _rule_industry)


def _component(name: str, rule: Callable[[_State], None]) -> None:
    def component(doc: Doc) -> Doc:
        rule(_state(doc))
        return doc

    component.__doc__ = rule.__doc__
    Language.component(name, func=component)


for _name, _rule in zip(
    ("brackets", "bank", "branch", "form", "region", "industry"), RULES, strict=True
):
    _component(f"chainlens_name_{_name}", _rule)


@Language.component("chainlens_name_trade")
def trade_component(doc: Doc) -> Doc:
    """The rest is the trade name; the parts become spans and a NameParts on the Doc."""
    state = _state(doc)
    parts = _finish(state)
    spans = []
    for label, value in (
        ("REGION", parts.region),
        ("TRADE", parts.trade),
        ("INDUSTRY", parts.industry),
        ("FORM", state.form_surface),
        ("BRANCH", parts.branch),
    ):
        if value and not state.is_english:
            start = state.text.find(value)
            if start >= 0:
                span = doc.char_span(start, start + len(value), label=label,
                                     alignment_mode="expand")
                if span is not None:
                    spans.append(span)
    doc.spans["name_parts"] = spans
    doc._.name_parts = parts
    del doc.user_data["chainlens_name_state"]
    return doc


def _industry_key(word: str) -> str:
    lex = load()
    phrases = lex.industry.get(word, ())
    return lex.industry_by_english.get(phrases[0], word) if phrases else word


PIPELINE = (
    "chainlens_name_brackets",
    "chainlens_name_bank",
    "chainlens_name_branch",
    "chainlens_name_form",
    "chainlens_name_region",
    "chainlens_name_industry",
    "chainlens_name_trade",
)


@cache
def name_pipeline() -> Language:
    """The spaCy pipeline: character segmentation (nothing to download) and the rules."""
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    for name in PIPELINE:
        nlp.add_pipe(name)
    return nlp


def prepare(raw: str) -> str:
    """The text a name is parsed from: normalised Chinese, or space-joined English words."""
    if has_cjk(raw):
        return chinese_name(raw)
    return " ".join(english_words(raw))


def parse_name(raw: str) -> NameParts:
    """Parse one firm name (Chinese or English)."""
    doc = name_pipeline()(prepare(raw))
    parts: NameParts = doc._.name_parts
    return parts


def parse_prepared(text: str) -> NameParts:
    """The pipeline's rules applied to a prepared text without building a spaCy Doc.

    Same rules, same order, same result as ``name_pipeline()``; a character-segmented Doc
    costs far more than the rules themselves, so bulk parsing takes this path.
    """
    state = _State(core=text, is_english=not has_cjk(text), text=text)
    if state.is_english:
        state.words = text.split()
    for rule in RULES:
        rule(state)
    return _finish(state)


def parse_names(raws: Iterable[str]) -> dict[str, NameParts]:
    """Parse many names at once, each distinct prepared text once; keyed by the raw name."""
    by_raw: dict[str, str] = {}
    for raw in raws:
        if raw not in by_raw:
            by_raw[raw] = prepare(raw)
    parsed = {text: parse_prepared(text) for text in set(by_raw.values())}
    return {raw: parsed[text] for raw, text in by_raw.items()}
