"""Realistic Chinese enterprise and person names, their English forms, and look-alike variants.

An enterprise name is region + trade name (字号) + industry word + legal form, e.g.
内蒙古草原牧歌牧业有限公司; its English form is pinyin or translated, e.g. "Inner Mongolia Caoyuan
Muge Animal Husbandry Co., Ltd.". Person names are a pure function of (seed, index) so that
they never have to be held in memory for a million people.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from pypinyin import lazy_pinyin

# Characters that trade names are made of (auspicious, common in registered names).
TRADE_CHARS = (
    "华盛恒达鑫源泰兴隆昌瑞祥宏远博拓凯丰嘉裕德信诚宇天海金银中新和利通顺安康永富汇聚联创智"
    "锦明辉光星辰晟旭阳东方云山川江河泉林森荣茂佳美益正大成立建鼎泓润泽亿万千百洪庆福广"
    "宝誉腾飞跃升日月晶华鹏程奥翔凌峰岳霖沐阔耀晨铭浩伟强胜旺发振实力坤乾元亨贞春秋"
)
# Four-character poetic trade names for agricultural firms (草原牧歌-style).
POETIC = (
    "草原牧歌", "塞外春风", "绿野仙踪", "天山雪莲", "黄河之滨", "江南丝语", "桑梓情深",
    "蓝天白云", "金色草原", "大漠孤烟", "锦绣山河", "春华秋实", "五谷丰登", "碧水青山",
    "丝路花雨", "牧野春秋", "草原明珠", "北国风光", "田园牧歌", "阳光牧场",
)
# Look-alike or sound-alike substitutions: typos in dirty records and near-identical names of
# different firms (拓搏 vs 拓博).
SIMILAR: dict[str, str] = {
    "博": "搏", "搏": "博", "拓": "托", "托": "拓", "鑫": "鉴", "华": "化", "达": "迭",
    "泰": "秦", "晨": "辰", "辰": "晨", "昌": "冒", "祥": "样", "宏": "弘", "弘": "宏",
    "盛": "晟", "晟": "盛", "源": "原", "原": "源", "远": "运", "凯": "铠", "丰": "风",
    "嘉": "佳", "佳": "嘉", "裕": "峪", "诚": "城", "宇": "字", "天": "夭", "海": "梅",
    "金": "全", "银": "锒", "新": "欣", "和": "禾", "利": "莉", "通": "桶", "顺": "须",
    "安": "按", "康": "唐", "永": "水", "富": "福", "福": "富", "汇": "江", "聚": "巨",
    "联": "连", "创": "仓", "智": "知", "锦": "绵", "明": "朋", "辉": "晖", "光": "先",
    "星": "兴", "兴": "星", "阳": "杨", "东": "冻", "方": "芳", "云": "去", "山": "出",
    "江": "汇", "河": "何", "泉": "宗", "林": "材", "森": "淼", "荣": "容", "茂": "贸",
    "美": "羡", "益": "溢", "正": "止", "大": "太", "太": "大", "成": "诚", "立": "力",
    "建": "健", "鼎": "顶", "泓": "宏", "润": "闰", "泽": "择", "亿": "忆", "万": "方",
    "千": "干", "百": "白", "洪": "鸿", "庆": "广", "广": "庆", "宝": "保", "誉": "喻",
    "腾": "藤", "飞": "非", "跃": "越", "升": "昇", "日": "曰", "月": "玥", "晶": "品",
    "鹏": "朋", "程": "呈", "奥": "澳", "翔": "祥", "凌": "陵", "峰": "锋", "岳": "兵",
    "霖": "林", "沐": "木", "阔": "润", "耀": "跃", "铭": "名", "浩": "皓", "伟": "玮",
    "强": "墙", "胜": "圣", "旺": "汪", "发": "法", "振": "震", "实": "石", "力": "立",
    "坤": "昆", "乾": "干", "元": "园", "亨": "享", "贞": "真", "春": "椿", "秋": "湫",
    "隆": "龙", "信": "言", "德": "得", "中": "忠", "恒": "亘", "千里": "干里",
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬斌鹏辉宇浩然"
    "子轩梓涵一诺欣怡志强建国建华国强海燕文博思远晓东晓明春生秋菊冬梅永刚振华德明玉兰"
)


@dataclass(frozen=True, slots=True)
class LegalForm:
    suffix: str  # as written at the end of the name
    legal_form: str  # the value of the legal_form field
    en: str


LIMITED = LegalForm("有限公司", "有限责任公司", "Co., Ltd.")
LIMITED_LONG = LegalForm("有限责任公司", "有限责任公司", "Co., Ltd.")
JOINT_STOCK = LegalForm("股份有限公司", "股份有限公司", "Co., Ltd.")
COOP = LegalForm("专业合作社", "农民专业合作社", "Cooperative")
GROUP = LegalForm("集团有限公司", "有限责任公司", "Group Co., Ltd.")


@dataclass(frozen=True, slots=True)
class NameParts:
    """The parts of a registered enterprise name, kept so dirty variants can reorder them."""

    region: str  # 内蒙古 or 宁波
    region_en: str
    trade: str  # 字号
    industry: str
    industry_en: str
    form: LegalForm

    @property
    def name(self) -> str:
        return f"{self.region}{self.trade}{self.industry}{self.form.suffix}"

    @property
    def name_en(self) -> str:
        return f"{self.region_en} {trade_pinyin(self.trade)} {self.industry_en} {self.form.en}"


_PINYIN_CACHE: dict[str, str] = {}
_CHAR_PINYIN: dict[str, str] = {}


def trade_pinyin(trade: str) -> str:
    """Pinyin of a trade name in two-syllable words: 草原牧歌 -> Caoyuan Muge."""
    cached = _PINYIN_CACHE.get(trade)
    if cached is not None:
        return cached
    if trade in POETIC:
        syllables = lazy_pinyin(trade)  # words: context decides polyphones
    else:
        # Two-character trade names are arbitrary pairs: each character's own reading.
        syllables = []
        for ch in trade:
            if ch not in _CHAR_PINYIN:
                _CHAR_PINYIN[ch] = lazy_pinyin(ch)[0]
            syllables.append(_CHAR_PINYIN[ch])
    words = ["".join(syllables[i : i + 2]).capitalize() for i in range(0, len(syllables), 2)]
    out = " ".join(words)
    if trade in POETIC:
        _PINYIN_CACHE[trade] = out
    return out


def random_trade(rng: random.Random, agricultural: bool) -> str:
    """A trade name: mostly two characters, sometimes a four-character poetic one."""
    if agricultural and rng.random() < 0.2:
        return rng.choice(POETIC)
    a = rng.choice(TRADE_CHARS)
    b = rng.choice(TRADE_CHARS)
    while b == a:
        b = rng.choice(TRADE_CHARS)
    if rng.random() < 0.08:
        c = rng.choice(TRADE_CHARS)
        return a + b + c
    return a + b


def look_alike(trade: str, rng: random.Random) -> str:
    """The trade name with one character swapped for a similar-looking one (拓博 -> 拓搏)."""
    positions = [i for i, ch in enumerate(trade) if ch in SIMILAR]
    if not positions:
        return trade[:-1] + ("源" if trade[-1] != "源" else "原")
    i = rng.choice(positions)
    return trade[:i] + SIMILAR[trade[i]] + trade[i + 1 :]


def _h(seed: int, kind: str, index: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{kind}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def person_name(seed: int, index: int) -> str:
    """The Chinese name of synthetic person ``index`` (deterministic, no state)."""
    h = _h(seed, "person", index)
    surname = SURNAMES[h % len(SURNAMES)]
    h //= len(SURNAMES)
    first = GIVEN[h % len(GIVEN)]
    h //= len(GIVEN)
    if h % 3 == 0:
        return surname + first
    h //= 3
    return surname + first + GIVEN[h % len(GIVEN)]


def person_id_number(seed: int, index: int, region_code: str) -> str:
    """A synthetic 18-digit resident ID number with a valid GB 11643 check character."""
    h = _h(seed, "idno", index)
    year = 1955 + h % 45
    h //= 45
    month = 1 + h % 12
    h //= 12
    day = 1 + h % 28
    h //= 28
    seq = h % 1000
    body = f"{region_code}{year:04d}{month:02d}{day:02d}{seq:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def person_id_hash(seed: int, index: int, region_code: str) -> str:
    """SHA-256 hex of the synthetic ID number: the only form in which it leaves the generator."""
    return hashlib.sha256(person_id_number(seed, index, region_code).encode()).hexdigest()


FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ()"}


def to_fullwidth(text: str) -> str:
    """ASCII letters, digits and brackets as full-width characters (ＡＢＣ１２３（）)."""
    return text.translate(FULLWIDTH)
