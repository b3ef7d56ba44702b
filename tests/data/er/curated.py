# ruff: noqa: E501 -- a table of names, one entry a line
"""The curated facts behind `benchmark.csv`: real firm names written as sources write them.

Everything here was written by hand from public knowledge of real firms (listed companies,
banks and insurers, foreign firms in China); nothing comes from the project's generator.
`python tests/data/er/curated.py` rewrites `benchmark.csv` (deterministic).

Labelling rules (a wrong label is worse than a missing pair, so only clear cases):
- same = 1: the same legal person written differently: with or without its legal form, its
  stock short name (简称), a former name of the same registration (曾用名: a rename, or an
  有限公司 converted into a 股份有限公司 under the same name), its English name, traditional
  characters, full-width brackets; a bank branch written with the short bank name, with or
  without 股份有限公司, 北京分行 / 北京市分行; a bank's head office (总行) and the bank.
- same = 0: different legal persons: firms sharing a word (招商银行 / 招商证券), parent and
  subsidiary, sibling subsidiaries, the head office and a branch, two branches of one bank
  (a 分行 and its 营业部 or 支行 too), a provincial and a city branch, firms of one group.
- Industry words: 集团 / 控股 / 投资 variants are labelled only from real cases, never by
  rule: a firm renamed with 集团 (上海汽车 → 上海汽车集团) is 1; a group parent and a
  company with the same trade name (中国中信集团有限公司 / 中国中信有限公司) are 0.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from pathlib import Path

import opencc

OUT = Path(__file__).resolve().parent / "benchmark.csv"

# (registered name, stock short name or common short name, English name, former names)
LISTED: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("贵州茅台酒股份有限公司", "贵州茅台", "Kweichow Moutai Co., Ltd.", ()),
    ("宜宾五粮液股份有限公司", "五粮液", "Wuliangye Yibin Co., Ltd.", ()),
    ("泸州老窖股份有限公司", "泸州老窖", "Luzhou Laojiao Co., Ltd.", ()),
    ("江苏洋河酒厂股份有限公司", "洋河股份", "Jiangsu Yanghe Brewery Joint-Stock Co., Ltd.", ()),
    ("山西杏花村汾酒厂股份有限公司", "山西汾酒", "Shanxi Xinghuacun Fen Wine Factory Co., Ltd.",
     ()),
    ("中国平安保险(集团)股份有限公司", "中国平安",
     "Ping An Insurance (Group) Company of China, Ltd.", ("中国平安保险股份有限公司",)),
    ("招商银行股份有限公司", "招商银行", "China Merchants Bank Co., Ltd.", ()),
    ("招商证券股份有限公司", "招商证券", "China Merchants Securities Co., Ltd.", ()),
    ("中信证券股份有限公司", "中信证券", "CITIC Securities Company Limited", ()),
    ("比亚迪股份有限公司", "比亚迪", "BYD Company Limited", ()),
    ("宁德时代新能源科技股份有限公司", "宁德时代", "Contemporary Amperex Technology Co., Limited",
     ("宁德时代新能源科技有限公司",)),
    ("美的集团股份有限公司", "美的集团", "Midea Group Co., Ltd.", ()),
    ("珠海格力电器股份有限公司", "格力电器", "Gree Electric Appliances, Inc. of Zhuhai", ()),
    ("海尔智家股份有限公司", "海尔智家", "Haier Smart Home Co., Ltd.", ("青岛海尔股份有限公司",)),
    ("杭州海康威视数字技术股份有限公司", "海康威视",
     "Hangzhou Hikvision Digital Technology Co., Ltd.", ("杭州海康威视数字技术有限公司",)),
    ("浙江大华技术股份有限公司", "大华股份", "Zhejiang Dahua Technology Co., Ltd.", ()),
    ("京东方科技集团股份有限公司", "京东方A", "BOE Technology Group Co., Ltd.",
     ("北京东方电子集团股份有限公司",)),
    ("中兴通讯股份有限公司", "中兴通讯", "ZTE Corporation", ()),
    ("万科企业股份有限公司", "万科A", "China Vanke Co., Ltd.", ()),
    ("中国石油化工股份有限公司", "中国石化", "China Petroleum & Chemical Corporation", ()),
    ("中国石油天然气股份有限公司", "中国石油", "PetroChina Company Limited", ()),
    ("中国建筑股份有限公司", "中国建筑", "China State Construction Engineering Corporation Limited",
     ()),
    ("中国中铁股份有限公司", "中国中铁", "China Railway Group Limited", ()),
    ("中国铁建股份有限公司", "中国铁建", "China Railway Construction Corporation Limited", ()),
    ("上海汽车集团股份有限公司", "上汽集团", "SAIC Motor Corporation Limited",
     ("上海汽车股份有限公司",)),
    ("长城汽车股份有限公司", "长城汽车", "Great Wall Motor Company Limited", ()),
    ("三一重工股份有限公司", "三一重工", "Sany Heavy Industry Co., Ltd.", ()),
    ("中联重科股份有限公司", "中联重科", "Zoomlion Heavy Industry Science and Technology Co., Ltd.",
     ()),
    ("潍柴动力股份有限公司", "潍柴动力", "Weichai Power Co., Ltd.", ()),
    ("内蒙古伊利实业集团股份有限公司", "伊利股份", "Inner Mongolia Yili Industrial Group Co., Ltd.",
     ("内蒙古伊利实业股份有限公司",)),
    ("佛山市海天调味食品股份有限公司", "海天味业", "Foshan Haitian Flavouring and Food Co., Ltd.",
     ()),
    ("江苏恒瑞医药股份有限公司", "恒瑞医药", "Jiangsu Hengrui Medicine Co., Ltd.", ()),
    ("云南白药集团股份有限公司", "云南白药", "Yunnan Baiyao Group Co., Ltd.",
     ("云南白药实业股份有限公司",)),
    ("海南航空控股股份有限公司", "海航控股", "Hainan Airlines Holding Co., Ltd.",
     ("海南航空股份有限公司",)),
    ("深圳华侨城股份有限公司", "华侨城A", "Shenzhen Overseas Chinese Town Co., Ltd.",
     ("深圳华侨城控股股份有限公司",)),
    ("漳州片仔癀药业股份有限公司", "片仔癀", "Zhangzhou Pientzehuang Pharmaceutical Co., Ltd.", ()),
    ("无锡药明康德新药开发股份有限公司", "药明康德", "WuXi AppTec Co., Ltd.",
     ("无锡药明康德新药开发有限公司",)),
    ("隆基绿能科技股份有限公司", "隆基绿能", "LONGi Green Energy Technology Co., Ltd.",
     ("西安隆基硅材料股份有限公司",)),
    ("通威股份有限公司", "通威股份", "Tongwei Co., Ltd.", ()),
    ("阳光电源股份有限公司", "阳光电源", "Sungrow Power Supply Co., Ltd.", ()),
    ("立讯精密工业股份有限公司", "立讯精密", "Luxshare Precision Industry Co., Ltd.", ()),
    ("歌尔股份有限公司", "歌尔股份", "Goertek Inc.", ("歌尔声学股份有限公司",)),
    ("科大讯飞股份有限公司", "科大讯飞", "iFLYTEK Co., Ltd.", ()),
    ("用友网络科技股份有限公司", "用友网络", "Yonyou Network Technology Co., Ltd.",
     ("用友软件股份有限公司",)),
    ("东方财富信息股份有限公司", "东方财富", "East Money Information Co., Ltd.", ()),
    ("中国国际航空股份有限公司", "中国国航", "Air China Limited", ()),
    ("中国东方航空股份有限公司", "东方航空", "China Eastern Airlines Corporation Limited", ()),
    ("中国南方航空股份有限公司", "南方航空", "China Southern Airlines Company Limited", ()),
    ("中国国际海运集装箱(集团)股份有限公司", "中集集团",
     "China International Marine Containers (Group) Co., Ltd.", ()),
    ("中远海运控股股份有限公司", "中远海控", "COSCO SHIPPING Holdings Co., Ltd.",
     ("中国远洋控股股份有限公司",)),
    ("上海国际港务(集团)股份有限公司", "上港集团", "Shanghai International Port (Group) Co., Ltd.",
     ()),
    ("宝山钢铁股份有限公司", "宝钢股份", "Baoshan Iron & Steel Co., Ltd.", ()),
    ("鞍钢股份有限公司", "鞍钢股份", "Angang Steel Company Limited", ()),
    ("紫金矿业集团股份有限公司", "紫金矿业", "Zijin Mining Group Co., Ltd.",
     ("福建紫金矿业股份有限公司",)),
    ("江西铜业股份有限公司", "江西铜业", "Jiangxi Copper Company Limited", ()),
    ("中国神华能源股份有限公司", "中国神华", "China Shenhua Energy Company Limited", ()),
    ("中国长江电力股份有限公司", "长江电力", "China Yangtze Power Co., Ltd.", ()),
    ("华能国际电力股份有限公司", "华能国际", "Huaneng Power International, Inc.", ()),
    ("中国联合网络通信股份有限公司", "中国联通", "China United Network Communications Limited", ()),
    ("中国电信股份有限公司", "中国电信", "China Telecom Corporation Limited", ()),
    ("福耀玻璃工业集团股份有限公司", "福耀玻璃", "Fuyao Glass Industry Group Co., Ltd.", ()),
    ("顺丰控股股份有限公司", "顺丰控股", "S.F. Holding Co., Ltd.",
     ("马鞍山鼎泰稀土新材料股份有限公司",)),
    ("苏宁易购集团股份有限公司", "苏宁易购", "Suning.com Co., Ltd.",
     ("苏宁云商集团股份有限公司", "苏宁电器股份有限公司")),
    ("分众传媒信息技术股份有限公司", "分众传媒", "Focus Media Information Technology Co., Ltd.", ()),
    ("中国国际金融股份有限公司", "中金公司", "China International Capital Corporation Limited", ()),
    ("华泰证券股份有限公司", "华泰证券", "Huatai Securities Co., Ltd.", ()),
    ("海通证券股份有限公司", "海通证券", "Haitong Securities Co., Ltd.", ()),
    ("广发证券股份有限公司", "广发证券", "GF Securities Co., Ltd.", ()),
    ("中国人寿保险股份有限公司", "中国人寿", "China Life Insurance Company Limited", ()),
    ("中国人民保险集团股份有限公司", "中国人保", "The People's Insurance Company (Group) of China Limited",
     ()),
    ("中国人民财产保险股份有限公司", "人保财险", "PICC Property and Casualty Company Limited", ()),
    ("中国太平洋保险(集团)股份有限公司", "中国太保", "China Pacific Insurance (Group) Co., Ltd.", ()),
    ("新华人寿保险股份有限公司", "新华保险", "New China Life Insurance Company Ltd.", ()),
    ("安徽海螺水泥股份有限公司", "海螺水泥", "Anhui Conch Cement Company Limited", ()),
    ("保利发展控股集团股份有限公司", "保利发展", "Poly Developments and Holdings Group Co., Ltd.",
     ("保利房地产(集团)股份有限公司",)),
    ("新希望六和股份有限公司", "新希望六和", "New Hope Liuhe Co., Ltd.", ()),
    ("中国交通建设股份有限公司", "中国交建", "China Communications Construction Company Limited", ()),
    ("中国电力建设股份有限公司", "中国电建", "Power Construction Corporation of China, Ltd.", ()),
    ("中国中车股份有限公司", "中国中车", "CRRC Corporation Limited", ()),
    ("中国船舶重工股份有限公司", "中国重工", "China Shipbuilding Industry Company Limited", ()),
    ("TCL科技集团股份有限公司", "TCL科技", "TCL Technology Group Corporation",
     ("TCL集团股份有限公司",)),
    ("北京金山办公软件股份有限公司", "金山办公", "Beijing Kingsoft Office Software, Inc.",
     ("北京金山办公软件有限公司",)),
    ("北京石头世纪科技股份有限公司", "石头科技", "Beijing Roborock Technology Co., Ltd.",
     ("北京石头世纪科技有限公司",)),
    ("深圳传音控股股份有限公司", "传音控股", "Shenzhen Transsion Holdings Co., Ltd.",
     ("深圳传音控股有限公司",)),
    ("中科寒武纪科技股份有限公司", "寒武纪", "Cambricon Technologies Corporation Limited",
     ("北京中科寒武纪科技有限公司",)),
]

# Banks: (registered name, short names, English name, former names)
BANKS: list[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = [
    ("中国工商银行股份有限公司", ("工商银行", "工行"), "Industrial and Commercial Bank of China Limited",
     ()),
    ("中国农业银行股份有限公司", ("农业银行", "农行"), "Agricultural Bank of China Limited", ()),
    ("中国银行股份有限公司", ("中行",), "Bank of China Limited", ()),
    ("中国建设银行股份有限公司", ("建设银行", "建行"), "China Construction Bank Corporation", ()),
    ("交通银行股份有限公司", ("交行",), "Bank of Communications Co., Ltd.", ()),
    ("中国邮政储蓄银行股份有限公司", ("邮储银行",), "Postal Savings Bank of China Co., Ltd.", ()),
    ("上海浦东发展银行股份有限公司", ("浦发银行",), "Shanghai Pudong Development Bank Co., Ltd.",
     ()),
    ("中信银行股份有限公司", ("中信银行",), "China CITIC Bank Corporation Limited", ()),
    ("中国光大银行股份有限公司", ("光大银行",), "China Everbright Bank Company Limited", ()),
    ("中国民生银行股份有限公司", ("民生银行",), "China Minsheng Banking Corp., Ltd.", ()),
    ("兴业银行股份有限公司", ("兴业银行",), "Industrial Bank Co., Ltd.", ()),
    ("华夏银行股份有限公司", ("华夏银行",), "Hua Xia Bank Co., Limited", ()),
    ("平安银行股份有限公司", ("平安银行",), "Ping An Bank Co., Ltd.", ("深圳发展银行股份有限公司",)),
    ("广发银行股份有限公司", ("广发银行",), "China Guangfa Bank Co., Ltd.",
     ("广东发展银行股份有限公司",)),
    ("北京银行股份有限公司", ("北京银行",), "Bank of Beijing Co., Ltd.",
     ("北京市商业银行股份有限公司",)),
    ("上海银行股份有限公司", ("上海银行",), "Bank of Shanghai Co., Ltd.", ()),
    ("江苏银行股份有限公司", ("江苏银行",), "Bank of Jiangsu Co., Ltd.", ()),
    ("南京银行股份有限公司", ("南京银行",), "Bank of Nanjing Co., Ltd.", ()),
    ("宁波银行股份有限公司", ("宁波银行",), "Bank of Ningbo Co., Ltd.", ()),
    ("杭州银行股份有限公司", ("杭州银行",), "Bank of Hangzhou Co., Ltd.", ()),
    ("浙商银行股份有限公司", ("浙商银行",), "China Zheshang Bank Co., Ltd.", ()),
    ("渤海银行股份有限公司", ("渤海银行",), "China Bohai Bank Co., Ltd.", ()),
    ("重庆农村商业银行股份有限公司", ("重庆农商行",), "Chongqing Rural Commercial Bank Co., Ltd.",
     ()),
    ("上海农村商业银行股份有限公司", ("上海农商银行",), "Shanghai Rural Commercial Bank Co., Ltd.",
     ()),
]

# Branches of banks and insurers: (registered bank name, short name, branch part). Each is
# paired with other writings of itself (same) and with its siblings and its bank (different).
BRANCHES: list[tuple[str, str, tuple[str, ...]]] = [
    ("中国工商银行股份有限公司", "工行",
     ("北京市分行", "上海市分行", "浙江省分行", "杭州分行", "北京中关村支行", "北京西单支行",
      "杭州西湖支行", "深圳福田支行", "北京市分行营业部")),
    ("中国建设银行股份有限公司", "建行",
     ("北京市分行", "上海市分行", "深圳市分行", "广东省分行", "北京西单支行", "上海浦东分行",
      "成都高新支行", "广州天河支行")),
    ("中国银行股份有限公司", "中行",
     ("北京市分行", "上海市分行", "江苏省分行", "南京鼓楼支行", "武汉江汉支行", "上海市分行营业部")),
    ("中国农业银行股份有限公司", "农行",
     ("北京市分行", "北京海淀支行", "北京朝阳支行", "天津市分行", "西安高新技术产业开发区支行")),
    ("招商银行股份有限公司", "招行",
     ("北京分行", "上海分行", "深圳分行", "杭州分行", "北京分行营业部", "深圳福田支行",
      "上海陆家嘴支行")),
    ("交通银行股份有限公司", "交行", ("北京市分行", "上海市分行", "江苏省分行", "苏州分行")),
    ("兴业银行股份有限公司", "兴业银行", ("福州分行", "上海分行", "厦门分行")),
    ("浙商银行股份有限公司", "浙商银行", ("杭州分行", "宁波分行", "杭州西湖支行")),
    ("中国人民财产保险股份有限公司", "人保财险", ("北京市分公司", "上海市分公司", "深圳市分公司")),
    ("中国平安财产保险股份有限公司", "平安财险", ("北京分公司", "上海分公司", "广东分公司")),
    ("中国人寿保险股份有限公司", "中国人寿", ("北京市分公司", "上海市分公司", "浙江省分公司")),
]

# Different firms that look alike: (category, name_a, name_b)
NEAR_MISSES: list[tuple[str, str, str]] = [
    # one word shared across finance
    ("near_miss_finance", "招商银行股份有限公司", "招商证券股份有限公司"),
    ("near_miss_finance", "招商银行", "招商证券"),
    ("near_miss_finance", "招商证券股份有限公司", "招商基金管理有限公司"),
    ("near_miss_finance", "招商银行股份有限公司", "招商局集团有限公司"),
    ("near_miss_finance", "招商局集团有限公司", "招商局港口控股有限公司"),
    ("near_miss_finance", "中国银行股份有限公司", "中国建设银行股份有限公司"),
    ("near_miss_finance", "中国银行", "中国建设银行"),
    ("near_miss_finance", "中国银行股份有限公司", "中国农业银行股份有限公司"),
    ("near_miss_finance", "中国工商银行股份有限公司", "中国农业银行股份有限公司"),
    ("near_miss_finance", "中国银行股份有限公司", "中国银行(香港)有限公司"),
    ("near_miss_finance", "中国农业银行股份有限公司", "中国农业发展银行"),
    ("near_miss_finance", "中国银行股份有限公司", "中国进出口银行"),
    ("near_miss_finance", "中信银行股份有限公司", "中信证券股份有限公司"),
    ("near_miss_finance", "中信证券股份有限公司", "中信建投证券股份有限公司"),
    ("industry_variant", "中国中信集团有限公司", "中国中信有限公司"),
    # A group parent and its listed company under one trade name.
    ("industry_variant", "四川省宜宾五粮液集团有限公司", "宜宾五粮液股份有限公司"),
    ("industry_variant", "泸州老窖集团有限责任公司", "泸州老窖股份有限公司"),
    ("industry_variant", "华侨城集团有限公司", "深圳华侨城股份有限公司"),
    ("industry_variant", "东风汽车集团有限公司", "东风汽车股份有限公司"),
    ("industry_variant", "中国船舶重工集团有限公司", "中国船舶重工股份有限公司"),
    ("industry_variant", "中国铝业集团有限公司", "中国铝业股份有限公司"),
    ("industry_variant", "中国冶金科工集团有限公司", "中国冶金科工股份有限公司"),
    ("industry_variant", "中国化学工程集团有限公司", "中国化学工程股份有限公司"),
    ("near_miss_finance", "中国中信集团有限公司", "中信银行股份有限公司"),
    ("near_miss_finance", "中国光大银行股份有限公司", "光大证券股份有限公司"),
    ("near_miss_finance", "兴业银行股份有限公司", "兴业证券股份有限公司"),
    ("near_miss_finance", "中国民生银行股份有限公司", "民生证券股份有限公司"),
    ("near_miss_finance", "浙商银行股份有限公司", "浙商证券股份有限公司"),
    ("near_miss_finance", "华夏银行股份有限公司", "华夏基金管理有限公司"),
    ("near_miss_finance", "华夏银行股份有限公司", "华夏幸福基业股份有限公司"),
    ("near_miss_finance", "平安银行股份有限公司", "中国平安保险(集团)股份有限公司"),
    ("near_miss_finance", "平安银行股份有限公司", "平安证券股份有限公司"),
    ("near_miss_finance", "广发银行股份有限公司", "广发证券股份有限公司"),
    ("near_miss_finance", "广发证券股份有限公司", "广发基金管理有限公司"),
    ("near_miss_finance", "华泰证券股份有限公司", "华泰柏瑞基金管理有限公司"),
    ("near_miss_finance", "华泰证券股份有限公司", "华泰保险集团股份有限公司"),
    ("near_miss_finance", "海通证券股份有限公司", "海通期货股份有限公司"),
    ("near_miss_finance", "中国国际金融股份有限公司", "中金财富证券有限公司"),
    ("near_miss_finance", "北京银行股份有限公司", "北京农村商业银行股份有限公司"),
    ("near_miss_finance", "上海银行股份有限公司", "上海农村商业银行股份有限公司"),
    ("near_miss_finance", "江苏银行股份有限公司", "江苏江南农村商业银行股份有限公司"),
    ("near_miss_finance", "宁波银行股份有限公司", "宁波通商银行股份有限公司"),
    ("near_miss_finance", "杭州银行股份有限公司", "杭州联合农村商业银行股份有限公司"),
    ("near_miss_finance", "上海浦东发展银行股份有限公司", "上海银行股份有限公司"),
    ("near_miss_finance", "中国邮政储蓄银行股份有限公司", "中国邮政集团有限公司"),
    ("near_miss_finance", "交通银行股份有限公司", "交银国际信托有限公司"),
    ("near_miss_finance", "中国建设银行股份有限公司", "建信基金管理有限责任公司"),
    ("near_miss_finance", "中国工商银行股份有限公司", "工银瑞信基金管理有限公司"),
    # insurers: group, subsidiaries and siblings
    ("sibling_or_parent", "中国平安保险(集团)股份有限公司", "中国平安人寿保险股份有限公司"),
    ("sibling_or_parent", "中国平安人寿保险股份有限公司", "中国平安财产保险股份有限公司"),
    ("sibling_or_parent", "中国平安财产保险股份有限公司", "平安养老保险股份有限公司"),
    ("sibling_or_parent", "中国太平洋保险(集团)股份有限公司", "中国太平洋人寿保险股份有限公司"),
    ("sibling_or_parent", "中国太平洋人寿保险股份有限公司", "中国太平洋财产保险股份有限公司"),
    ("sibling_or_parent", "中国人民保险集团股份有限公司", "中国人民财产保险股份有限公司"),
    ("sibling_or_parent", "中国人民财产保险股份有限公司", "中国人民人寿保险股份有限公司"),
    ("sibling_or_parent", "中国人民人寿保险股份有限公司", "中国人民健康保险股份有限公司"),
    ("sibling_or_parent", "中国人寿保险股份有限公司", "中国人寿保险(集团)公司"),
    ("sibling_or_parent", "中国人寿保险股份有限公司", "中国人寿财产保险股份有限公司"),
    ("sibling_or_parent", "中国人寿保险股份有限公司", "中国人民人寿保险股份有限公司"),
    ("sibling_or_parent", "新华人寿保险股份有限公司", "泰康人寿保险有限责任公司"),
    # groups, parents and listed subsidiaries
    ("industry_variant", "中国石油化工集团有限公司", "中国石油化工股份有限公司"),
    ("industry_variant", "中国石油天然气集团有限公司", "中国石油天然气股份有限公司"),
    ("industry_variant", "中国建筑集团有限公司", "中国建筑股份有限公司"),
    ("sibling_or_parent", "中国建筑第八工程局有限公司", "中国建筑第三工程局有限公司"),
    ("sibling_or_parent", "中国建筑第八工程局有限公司", "中国建筑股份有限公司"),
    ("sibling_or_parent", "中国建筑第二工程局有限公司", "中国建筑第五工程局有限公司"),
    ("sibling_or_parent", "中铁一局集团有限公司", "中铁二局集团有限公司"),
    ("sibling_or_parent", "中铁大桥局集团有限公司", "中铁隧道局集团有限公司"),
    ("sibling_or_parent", "中国铁路工程集团有限公司", "中国中铁股份有限公司"),
    ("sibling_or_parent", "中国铁道建筑集团有限公司", "中国铁建股份有限公司"),
    ("sibling_or_parent", "中国宝武钢铁集团有限公司", "宝山钢铁股份有限公司"),
    ("sibling_or_parent", "鞍钢集团有限公司", "鞍钢股份有限公司"),
    ("sibling_or_parent", "海尔集团公司", "海尔智家股份有限公司"),
    ("sibling_or_parent", "美的集团股份有限公司", "美的置业集团有限公司"),
    ("sibling_or_parent", "珠海格力电器股份有限公司", "格力地产股份有限公司"),
    ("sibling_or_parent", "珠海格力集团有限公司", "珠海格力电器股份有限公司"),
    ("sibling_or_parent", "上海汽车集团股份有限公司", "上汽通用汽车有限公司"),
    ("sibling_or_parent", "上海汽车集团股份有限公司", "上汽大众汽车有限公司"),
    ("sibling_or_parent", "比亚迪股份有限公司", "比亚迪汽车工业有限公司"),
    ("sibling_or_parent", "比亚迪股份有限公司", "比亚迪电子(国际)有限公司"),
    ("sibling_or_parent", "中国国际航空股份有限公司", "中国航空集团有限公司"),
    ("industry_variant", "中国东方航空股份有限公司", "中国东方航空集团有限公司"),
    ("industry_variant", "中国南方航空股份有限公司", "中国南方航空集团有限公司"),
    ("sibling_or_parent", "中国东方航空股份有限公司", "上海航空有限公司"),
    ("sibling_or_parent", "中远海运控股股份有限公司", "中国远洋海运集团有限公司"),
    ("sibling_or_parent", "中国神华能源股份有限公司", "国家能源投资集团有限责任公司"),
    ("sibling_or_parent", "中国长江电力股份有限公司", "中国长江三峡集团有限公司"),
    ("sibling_or_parent", "华能国际电力股份有限公司", "中国华能集团有限公司"),
    ("industry_variant", "中国联合网络通信股份有限公司", "中国联合网络通信集团有限公司"),
    ("industry_variant", "中国电信股份有限公司", "中国电信集团有限公司"),
    ("sibling_or_parent", "中国移动通信集团有限公司", "中国移动通信集团广东有限公司"),
    ("sibling_or_parent", "中国移动通信集团广东有限公司", "中国移动通信集团浙江有限公司"),
    ("sibling_or_parent", "中国电信集团有限公司", "中国电信股份有限公司北京分公司"),
    ("industry_variant", "中国交通建设股份有限公司", "中国交通建设集团有限公司"),
    ("sibling_or_parent", "中国交通建设股份有限公司", "中国港湾工程有限责任公司"),
    ("industry_variant", "中国电力建设股份有限公司", "中国电力建设集团有限公司"),
    ("industry_variant", "中国中车股份有限公司", "中国中车集团有限公司"),
    ("sibling_or_parent", "中国中车股份有限公司", "中车青岛四方机车车辆股份有限公司"),
    ("sibling_or_parent", "中车青岛四方机车车辆股份有限公司", "中车长春轨道客车股份有限公司"),
    ("sibling_or_parent", "招商局集团有限公司", "招商局蛇口工业区控股股份有限公司"),
    ("sibling_or_parent", "中国保利集团有限公司", "保利发展控股集团股份有限公司"),
    ("sibling_or_parent", "华润(集团)有限公司", "华润置地有限公司"),
    ("sibling_or_parent", "华润(集团)有限公司", "华润啤酒(控股)有限公司"),
    ("sibling_or_parent", "华润置地有限公司", "华润万家有限公司"),
    ("sibling_or_parent", "阿里巴巴(中国)有限公司", "阿里巴巴(中国)网络技术有限公司"),
    ("sibling_or_parent", "阿里巴巴(中国)网络技术有限公司", "浙江天猫网络有限公司"),
    ("sibling_or_parent", "深圳市腾讯计算机系统有限公司", "腾讯科技(深圳)有限公司"),
    ("sibling_or_parent", "北京京东世纪贸易有限公司", "北京京东叁佰陆拾度电子商务有限公司"),
    ("sibling_or_parent", "华为技术有限公司", "华为终端有限公司"),
    ("industry_variant", "华为技术有限公司", "华为投资控股有限公司"),
    ("sibling_or_parent", "小米科技有限责任公司", "小米通讯技术有限公司"),
    ("sibling_or_parent", "顺丰控股股份有限公司", "顺丰速运有限公司"),
    ("sibling_or_parent", "内蒙古伊利实业集团股份有限公司", "内蒙古蒙牛乳业(集团)股份有限公司"),
    ("sibling_or_parent", "中国中信集团有限公司", "中信证券股份有限公司"),
    ("sibling_or_parent", "复星国际有限公司", "上海复星医药(集团)股份有限公司"),
    ("sibling_or_parent", "上海复星医药(集团)股份有限公司", "上海复星高科技(集团)有限公司"),
    ("industry_variant", "云南白药集团股份有限公司", "云南白药控股有限公司"),
    ("industry_variant", "厦门国贸控股集团有限公司", "厦门国贸集团股份有限公司"),
    ("industry_variant", "厦门建发集团有限公司", "厦门建发股份有限公司"),
    ("sibling_or_parent", "深圳市投资控股有限公司", "深圳市创新投资集团有限公司"),
    ("sibling_or_parent", "上海国际集团有限公司", "上海国际港务(集团)股份有限公司"),
    ("sibling_or_parent", "上海国有资本投资有限公司", "上海国际集团有限公司"),
    ("sibling_or_parent", "中国国新控股有限责任公司", "中国诚通控股集团有限公司"),
    ("sibling_or_parent", "国家开发投资集团有限公司", "国投电力控股股份有限公司"),
    ("sibling_or_parent", "北京首都创业集团有限公司", "北京首创生态环保集团股份有限公司"),
    # competitors in one city and industry
    ("near_miss_industry", "中国石油化工股份有限公司", "中国石油天然气股份有限公司"),
    ("near_miss_industry", "中国石化", "中国石油"),
    ("near_miss_industry", "中国东方航空股份有限公司", "中国南方航空股份有限公司"),
    ("near_miss_industry", "东方航空", "南方航空"),
    ("near_miss_industry", "中国中铁股份有限公司", "中国铁建股份有限公司"),
    ("near_miss_industry", "中国交通建设股份有限公司", "中国建筑股份有限公司"),
    ("near_miss_industry", "中国电信股份有限公司", "中国联合网络通信股份有限公司"),
    ("near_miss_industry", "中国移动通信集团有限公司", "中国电信集团有限公司"),
    ("near_miss_industry", "宜宾五粮液股份有限公司", "泸州老窖股份有限公司"),
    ("near_miss_industry", "贵州茅台酒股份有限公司", "贵州习酒股份有限公司"),
    ("near_miss_industry", "贵州茅台酒股份有限公司", "贵州茅台酒厂(集团)习酒有限责任公司"),
    ("near_miss_industry", "中国贵州茅台酒厂(集团)有限责任公司", "贵州茅台酒股份有限公司"),
    ("near_miss_industry", "珠海格力电器股份有限公司", "美的集团股份有限公司"),
    ("near_miss_industry", "海尔智家股份有限公司", "海信视像科技股份有限公司"),
    ("near_miss_industry", "青岛海尔股份有限公司", "青岛海信电器股份有限公司"),
    ("near_miss_industry", "杭州海康威视数字技术股份有限公司", "浙江大华技术股份有限公司"),
    ("near_miss_industry", "杭州海康威视数字技术股份有限公司", "杭州海康威视系统技术有限公司"),
    ("near_miss_industry", "杭州海康威视数字技术股份有限公司", "杭州萤石网络股份有限公司"),
    ("near_miss_industry", "宝山钢铁股份有限公司", "鞍钢股份有限公司"),
    ("near_miss_industry", "宝山钢铁股份有限公司", "武汉钢铁有限公司"),
    ("near_miss_industry", "三一重工股份有限公司", "中联重科股份有限公司"),
    ("near_miss_industry", "三一重工股份有限公司", "三一重能股份有限公司"),
    ("near_miss_industry", "三一重工股份有限公司", "三一汽车制造有限公司"),
    ("near_miss_industry", "长城汽车股份有限公司", "重庆长安汽车股份有限公司"),
    ("near_miss_industry", "比亚迪股份有限公司", "长城汽车股份有限公司"),
    ("near_miss_industry", "江苏恒瑞医药股份有限公司", "江苏豪森药业集团有限公司"),
    ("near_miss_industry", "云南白药集团股份有限公司", "云南沃森生物技术股份有限公司"),
    ("near_miss_industry", "华泰证券股份有限公司", "国泰君安证券股份有限公司"),
    ("near_miss_industry", "国泰君安证券股份有限公司", "国泰基金管理有限公司"),
    ("near_miss_industry", "海通证券股份有限公司", "海通恒信国际融资租赁股份有限公司"),
    ("near_miss_industry", "中国人寿保险股份有限公司", "中国人民保险集团股份有限公司"),
    ("near_miss_industry", "新华人寿保险股份有限公司", "新华联控股有限公司"),
    ("near_miss_industry", "中国太平洋保险(集团)股份有限公司", "中国太平保险集团有限责任公司"),
    ("near_miss_industry", "紫金矿业集团股份有限公司", "紫金财产保险股份有限公司"),
    ("near_miss_industry", "江西铜业股份有限公司", "铜陵有色金属集团股份有限公司"),
    ("near_miss_industry", "中国神华能源股份有限公司", "中国中煤能源股份有限公司"),
    ("near_miss_industry", "华能国际电力股份有限公司", "华电国际电力股份有限公司"),
    ("near_miss_industry", "华能国际电力股份有限公司", "大唐国际发电股份有限公司"),
    ("near_miss_industry", "中国长江电力股份有限公司", "长江证券股份有限公司"),
    ("near_miss_industry", "中国长江电力股份有限公司", "中国长江航运集团有限公司"),
    ("near_miss_industry", "科大讯飞股份有限公司", "科大国创软件股份有限公司"),
    ("near_miss_industry", "用友网络科技股份有限公司", "金蝶软件(中国)有限公司"),
    ("near_miss_industry", "东方财富信息股份有限公司", "东方证券股份有限公司"),
    ("near_miss_industry", "东方财富证券股份有限公司", "东方证券股份有限公司"),
    ("near_miss_industry", "中国东方航空股份有限公司", "东方财富信息股份有限公司"),
    ("near_miss_industry", "立讯精密工业股份有限公司", "歌尔股份有限公司"),
    ("near_miss_industry", "宁德时代新能源科技股份有限公司", "比亚迪股份有限公司"),
    ("near_miss_industry", "宁德时代新能源科技股份有限公司", "株洲中车时代电气股份有限公司"),
    ("near_miss_industry", "隆基绿能科技股份有限公司", "通威股份有限公司"),
    ("near_miss_industry", "阳光电源股份有限公司", "阳光保险集团股份有限公司"),
    ("near_miss_industry", "福耀玻璃工业集团股份有限公司", "信义玻璃控股有限公司"),
    ("near_miss_industry", "万科企业股份有限公司", "大连万达集团股份有限公司"),
    ("near_miss_industry", "大连万达集团股份有限公司", "万达电影股份有限公司"),
    ("industry_variant", "苏宁易购集团股份有限公司", "苏宁控股集团有限公司"),
    ("near_miss_industry", "中国国际海运集装箱(集团)股份有限公司", "中国国际航空股份有限公司"),
    ("near_miss_industry", "上海国际港务(集团)股份有限公司", "宁波舟山港股份有限公司"),
    ("near_miss_industry", "中国船舶重工股份有限公司", "中国船舶工业股份有限公司"),
    ("near_miss_industry", "中国船舶重工集团有限公司", "中国船舶工业集团有限公司"),
    ("industry_variant", "新希望六和股份有限公司", "新希望集团有限公司"),
    ("near_miss_industry", "佛山市海天调味食品股份有限公司", "佛山市海天(高明)调味食品有限公司"),
    ("near_miss_industry", "内蒙古伊利实业集团股份有限公司", "内蒙古伊泰煤炭股份有限公司"),
    ("near_miss_industry", "北京金山办公软件股份有限公司", "北京金山软件有限公司"),
    ("near_miss_industry", "北京石头世纪科技股份有限公司", "北京小米移动软件有限公司"),
    ("industry_variant", "TCL科技集团股份有限公司", "TCL实业控股股份有限公司"),
    ("near_miss_industry", "顺丰控股股份有限公司", "圆通速递股份有限公司"),
    ("near_miss_industry", "中通快递股份有限公司", "申通快递股份有限公司"),
    ("near_miss_industry", "圆通速递股份有限公司", "韵达控股股份有限公司"),
    ("industry_variant", "安徽海螺水泥股份有限公司", "安徽海螺集团有限责任公司"),
    # foreign firms: a firm's China arms are different legal persons
    ("foreign_near_miss", "苹果电脑贸易(上海)有限公司", "苹果技术与服务(上海)有限公司"),
    ("foreign_near_miss", "微软(中国)有限公司", "微软移动联新互联网服务有限公司"),
    ("foreign_near_miss", "西门子(中国)有限公司", "西门子医疗系统有限公司"),
    ("foreign_near_miss", "大众汽车(中国)投资有限公司", "一汽-大众汽车有限公司"),
    ("foreign_near_miss", "一汽-大众汽车有限公司", "上汽大众汽车有限公司"),
    ("foreign_near_miss", "丰田汽车(中国)投资有限公司", "广汽丰田汽车有限公司"),
    ("foreign_near_miss", "广汽丰田汽车有限公司", "一汽丰田汽车销售有限公司"),
    ("foreign_near_miss", "宝马(中国)汽车贸易有限公司", "华晨宝马汽车有限公司"),
    ("foreign_near_miss", "三星(中国)投资有限公司", "苏州三星电子有限公司"),
    ("foreign_near_miss", "索尼(中国)有限公司", "索尼移动通信产品(中国)有限公司"),
    ("foreign_near_miss", "沃尔玛(中国)投资有限公司", "沃尔玛华东百货有限公司"),
    ("foreign_near_miss", "特斯拉(上海)有限公司", "特斯拉汽车(北京)有限公司"),
    ("foreign_near_miss", "英特尔(中国)有限公司", "英特尔半导体(大连)有限公司"),
    ("foreign_near_miss", "Apple Inc.", "Apple Computer Trading (Shanghai) Co., Ltd."),
    ("foreign_near_miss", "Microsoft Corporation", "Microsoft (China) Co., Ltd."),
    ("foreign_near_miss", "Siemens AG", "Siemens Healthineers AG"),
    ("foreign_near_miss", "Toyota Motor Corporation", "Toyota Tsusho Corporation"),
    ("foreign_near_miss", "Samsung Electronics Co., Ltd.", "Samsung SDI Co., Ltd."),
    ("foreign_near_miss", "Samsung Electronics Co., Ltd.", "Samsung Electro-Mechanics Co., Ltd."),
    ("foreign_near_miss", "Sony Group Corporation", "Sony Interactive Entertainment Inc."),
    ("foreign_near_miss", "HSBC Holdings plc", "The Hongkong and Shanghai Banking Corporation Limited"),
    ("foreign_near_miss", "汇丰银行(中国)有限公司", "恒生银行(中国)有限公司"),
    ("foreign_near_miss", "渣打银行(中国)有限公司", "花旗银行(中国)有限公司"),
    ("foreign_near_miss", "Standard Chartered Bank (China) Limited", "Citibank (China) Co., Ltd."),
    ("foreign_near_miss", "BASF SE", "BASF (China) Company Limited"),
    ("foreign_near_miss", "Nestle S.A.", "Nestle (China) Ltd."),
    ("foreign_near_miss", "雀巢(中国)有限公司", "上海雀巢产品服务有限公司"),
    ("foreign_near_miss", "Volkswagen AG", "Volkswagen (China) Investment Co., Ltd."),
    ("foreign_near_miss", "Bayer AG", "Bayer (China) Limited"),
    ("foreign_near_miss", "拜耳(中国)有限公司", "拜耳医药保健有限公司"),
]

# An English name against the Chinese name of a look-alike firm (a bank's English customer
# list against the Chinese register): different firms.
CROSS_SCRIPT_MISSES: list[tuple[str, str]] = [
    ("China Merchants Bank Co., Ltd.", "招商证券股份有限公司"),
    ("China Merchants Securities Co., Ltd.", "招商银行股份有限公司"),
    ("CITIC Securities Company Limited", "中信银行股份有限公司"),
    ("China CITIC Bank Corporation Limited", "中信证券股份有限公司"),
    ("China Eastern Airlines Corporation Limited", "中国南方航空股份有限公司"),
    ("China Southern Airlines Company Limited", "中国东方航空股份有限公司"),
    ("Air China Limited", "中国东方航空股份有限公司"),
    ("PetroChina Company Limited", "中国石油化工股份有限公司"),
    ("China Petroleum & Chemical Corporation", "中国石油天然气股份有限公司"),
    ("China Railway Group Limited", "中国铁建股份有限公司"),
    ("China Railway Construction Corporation Limited", "中国中铁股份有限公司"),
    ("Kweichow Moutai Co., Ltd.", "宜宾五粮液股份有限公司"),
    ("Wuliangye Yibin Co., Ltd.", "泸州老窖股份有限公司"),
    ("Luzhou Laojiao Co., Ltd.", "贵州茅台酒股份有限公司"),
    ("Gree Electric Appliances, Inc. of Zhuhai", "美的集团股份有限公司"),
    ("Midea Group Co., Ltd.", "珠海格力电器股份有限公司"),
    ("Haier Smart Home Co., Ltd.", "海信视像科技股份有限公司"),
    ("Hangzhou Hikvision Digital Technology Co., Ltd.", "浙江大华技术股份有限公司"),
    ("Zhejiang Dahua Technology Co., Ltd.", "杭州海康威视数字技术股份有限公司"),
    ("BYD Company Limited", "长城汽车股份有限公司"),
    ("Great Wall Motor Company Limited", "比亚迪股份有限公司"),
    ("Sany Heavy Industry Co., Ltd.", "中联重科股份有限公司"),
    ("Zoomlion Heavy Industry Science and Technology Co., Ltd.", "三一重工股份有限公司"),
    ("Huatai Securities Co., Ltd.", "海通证券股份有限公司"),
    ("Haitong Securities Co., Ltd.", "华泰证券股份有限公司"),
    ("GF Securities Co., Ltd.", "广发银行股份有限公司"),
    ("China Guangfa Bank Co., Ltd.", "广发证券股份有限公司"),
    ("China Life Insurance Company Limited", "中国人民保险集团股份有限公司"),
    ("PICC Property and Casualty Company Limited", "中国人寿保险股份有限公司"),
    ("China Pacific Insurance (Group) Co., Ltd.", "中国平安保险(集团)股份有限公司"),
    ("Ping An Insurance (Group) Company of China, Ltd.", "平安银行股份有限公司"),
    ("Ping An Bank Co., Ltd.", "中国平安保险(集团)股份有限公司"),
    ("Industrial Bank Co., Ltd.", "中国工商银行股份有限公司"),
    ("Industrial and Commercial Bank of China Limited", "兴业银行股份有限公司"),
    ("Bank of China Limited", "中国建设银行股份有限公司"),
    ("China Construction Bank Corporation", "中国银行股份有限公司"),
    ("Bank of Communications Co., Ltd.", "中国交通建设股份有限公司"),
    ("China Communications Construction Company Limited", "交通银行股份有限公司"),
    ("Bank of Beijing Co., Ltd.", "北京农村商业银行股份有限公司"),
    ("Bank of Shanghai Co., Ltd.", "上海浦东发展银行股份有限公司"),
    ("Shanghai Pudong Development Bank Co., Ltd.", "上海银行股份有限公司"),
    ("China Everbright Bank Company Limited", "光大证券股份有限公司"),
    ("China Minsheng Banking Corp., Ltd.", "民生证券股份有限公司"),
    ("China Zheshang Bank Co., Ltd.", "浙商证券股份有限公司"),
    ("China Yangtze Power Co., Ltd.", "长江证券股份有限公司"),
    ("Huaneng Power International, Inc.", "华电国际电力股份有限公司"),
    ("China Shenhua Energy Company Limited", "中国中煤能源股份有限公司"),
    ("Baoshan Iron & Steel Co., Ltd.", "鞍钢股份有限公司"),
    ("Angang Steel Company Limited", "宝山钢铁股份有限公司"),
    ("Zijin Mining Group Co., Ltd.", "江西铜业股份有限公司"),
    ("Jiangxi Copper Company Limited", "紫金矿业集团股份有限公司"),
    ("China Telecom Corporation Limited", "中国联合网络通信股份有限公司"),
    ("China United Network Communications Limited", "中国电信股份有限公司"),
    ("Jiangsu Hengrui Medicine Co., Ltd.", "江苏豪森药业集团有限公司"),
    ("Tongwei Co., Ltd.", "隆基绿能科技股份有限公司"),
    ("LONGi Green Energy Technology Co., Ltd.", "通威股份有限公司"),
    ("SAIC Motor Corporation Limited", "上汽通用汽车有限公司"),
    ("S.F. Holding Co., Ltd.", "圆通速递股份有限公司"),
    ("China Vanke Co., Ltd.", "大连万达集团股份有限公司"),
    ("Microsoft (China) Co., Ltd.", "苹果电脑贸易(上海)有限公司"),
    ("Apple Computer Trading (Shanghai) Co., Ltd.", "特斯拉(上海)有限公司"),
    ("Tesla (Shanghai) Co., Ltd.", "上汽大众汽车有限公司"),
    ("Volkswagen (China) Investment Co., Ltd.", "丰田汽车(中国)投资有限公司"),
    ("Toyota Motor (China) Investment Co., Ltd.", "大众汽车(中国)投资有限公司"),
    ("Samsung (China) Investment Co., Ltd.", "索尼(中国)有限公司"),
    ("Sony (China) Limited", "三星(中国)投资有限公司"),
    ("HSBC Bank (China) Company Limited", "恒生银行(中国)有限公司"),
    ("Citibank (China) Co., Ltd.", "渣打银行(中国)有限公司"),
    ("Standard Chartered Bank (China) Limited", "花旗银行(中国)有限公司"),
    ("BASF (China) Company Limited", "拜耳(中国)有限公司"),
    ("Bayer (China) Limited", "巴斯夫(中国)有限公司"),
    ("Nestle (China) Ltd.", "沃尔玛(中国)投资有限公司"),
    ("Intel (China) Ltd.", "微软(中国)有限公司"),
    ("Siemens Ltd., China", "西门子医疗系统有限公司"),
    ("Contemporary Amperex Technology Co., Limited", "比亚迪股份有限公司"),
    ("Goertek Inc.", "立讯精密工业股份有限公司"),
    ("Luxshare Precision Industry Co., Ltd.", "歌尔股份有限公司"),
    ("iFLYTEK Co., Ltd.", "科大国创软件股份有限公司"),
    ("East Money Information Co., Ltd.", "东方证券股份有限公司"),
    ("COSCO SHIPPING Holdings Co., Ltd.", "中国远洋海运集团有限公司"),
]

# Foreign firms in China written differently: (Chinese registered name, other writings)
FOREIGN_SAME: list[tuple[str, tuple[str, ...]]] = [
    ("苹果电脑贸易(上海)有限公司", ("Apple Computer Trading (Shanghai) Co., Ltd.", "苹果电脑贸易（上海）有限公司")),
    ("微软(中国)有限公司", ("Microsoft (China) Co., Ltd.", "微软（中国）有限公司", "微软中国有限公司")),
    ("西门子(中国)有限公司", ("Siemens Ltd., China", "西门子（中国）有限公司")),
    ("大众汽车(中国)投资有限公司", ("Volkswagen (China) Investment Co., Ltd.", "大众汽车（中国）投资有限公司")),
    ("丰田汽车(中国)投资有限公司", ("Toyota Motor (China) Investment Co., Ltd.", "丰田汽车（中国）投资有限公司")),
    ("宝马(中国)汽车贸易有限公司", ("BMW China Automotive Trading Ltd.", "宝马（中国）汽车贸易有限公司")),
    ("三星(中国)投资有限公司", ("Samsung (China) Investment Co., Ltd.", "三星（中国）投资有限公司")),
    ("索尼(中国)有限公司", ("Sony (China) Limited", "索尼（中国）有限公司")),
    ("沃尔玛(中国)投资有限公司", ("Wal-Mart (China) Investment Co., Ltd.", "沃尔玛（中国）投资有限公司")),
    ("特斯拉(上海)有限公司", ("Tesla (Shanghai) Co., Ltd.", "特斯拉（上海）有限公司", "特斯拉上海有限公司")),
    ("英特尔(中国)有限公司", ("Intel (China) Ltd.", "英特尔（中国）有限公司")),
    ("汇丰银行(中国)有限公司", ("HSBC Bank (China) Company Limited", "滙豐銀行(中國)有限公司")),
    ("渣打银行(中国)有限公司", ("Standard Chartered Bank (China) Limited", "渣打銀行(中國)有限公司")),
    ("花旗银行(中国)有限公司", ("Citibank (China) Co., Ltd.", "花旗銀行(中國)有限公司")),
    ("巴斯夫(中国)有限公司", ("BASF (China) Company Limited", "巴斯夫（中国）有限公司")),
    ("雀巢(中国)有限公司", ("Nestle (China) Ltd.", "雀巢（中国）有限公司")),
    ("拜耳(中国)有限公司", ("Bayer (China) Limited", "拜耳（中国）有限公司")),
    ("Apple Inc.", ("APPLE INC", "Apple Incorporated")),
    ("Microsoft Corporation", ("MICROSOFT CORP", "Microsoft Corp.")),
    ("Siemens AG", ("SIEMENS AKTIENGESELLSCHAFT", "Siemens Aktiengesellschaft")),
    ("Toyota Motor Corporation", ("TOYOTA MOTOR CORP", "Toyota Motor Corp.")),
    ("Samsung Electronics Co., Ltd.", ("SAMSUNG ELECTRONICS CO LTD", "Samsung Electronics Company Limited")),
    ("HSBC Holdings plc", ("HSBC HOLDINGS PLC", "HSBC Holdings Public Limited Company")),
    ("Nestle S.A.", ("NESTLE SA", "Nestlé S.A.")),
    ("BASF SE", ("BASF S.E.",)),
    ("Volkswagen AG", ("VOLKSWAGEN AG", "Volkswagen Aktiengesellschaft")),
    ("Bayer AG", ("BAYER AG", "Bayer Aktiengesellschaft")),
]

_S2T = opencc.OpenCC("s2t")
_FORMS = ("股份有限公司", "有限责任公司", "有限公司")


def _without_form(name: str) -> str:
    for form in _FORMS:
        if name.endswith(form):
            return name[: -len(form)]
    return name


def _industry_only(a: str, b: str) -> bool:
    """The two stems differ only by 集团 / 控股 / 科技 words (上海汽车 / 上海汽车集团)."""
    def strip(x: str) -> str:
        for word in ("(集团)", "集团", "控股", "科技"):
            x = x.replace(word, "")
        return x
    return a != b and strip(a) == strip(b)


def _full_width(name: str) -> str:
    """Brackets and latin letters as full-width characters (how official documents write
    them); ASCII half-width is what databases usually hold."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)


def _rows() -> list[tuple[str, str, int, str]]:
    rows: list[tuple[str, str, int, str]] = []

    def add(a: str, b: str, same: int, category: str) -> None:
        if unicodedata.normalize("NFKC", a) != a or a != b:
            rows.append((a, b, same, category))

    for full, short, english, former in LISTED:
        add(full, _without_form(full), 1, "legal_form")
        add(full, short, 1, "abbreviation")
        add(english, full, 1, "english_name")
        trad = _S2T.convert(full)
        if trad != full:
            add(trad, full, 1, "traditional")
        if "(" in full or any("A" <= c <= "Z" for c in full):
            add(_full_width(full), full, 1, "full_width")
        for old in former:
            category = "former_name"
            if (old.endswith("有限公司") and not old.endswith("股份有限公司")
                    and full.endswith("股份有限公司")):
                category = "restructuring"  # 有限责任公司 converted, usually before listing
            elif _industry_only(_without_form(old), _without_form(full)):
                category = "industry_variant"
            add(old, full, 1, category)
    for full, shorts, english, former in BANKS:
        add(full, _without_form(full), 1, "legal_form")
        for short in shorts:
            add(short, full, 1, "abbreviation")
        add(english, full, 1, "english_name")
        add(_S2T.convert(full), full, 1, "traditional")
        add(_without_form(full) + "总行", full, 1, "bank_head_office")
        for old in former:
            add(old, full, 1, "former_name")
    for bank, short, branches in BRANCHES:
        bare = _without_form(bank)
        for k, branch in enumerate(branches):
            full = bank + branch
            # The same branch: without the legal form, with the short name, 市/省 dropped.
            add(bare + branch, full, 1, "bank_branch")
            add(short + branch, full, 1, "bank_branch")
            if "市分" in branch or "省分" in branch:
                add(bare + branch.replace("市分", "分").replace("省分", "分"), full, 1,
                    "bank_branch")
            # Different entities: the bank and its branch, sibling branches.
            if k < 3:
                add(bank, full, 0, "branch_vs_head_office")
            for other in branches[k + 1 : k + 3]:
                add(full, bank + other, 0, "branch_vs_branch")
            if k + 3 < len(branches):
                add(short + branch, bare + branches[k + 3], 0, "branch_vs_branch")
    for category, a, b in NEAR_MISSES:
        add(a, b, 0, category)
    for a, b in CROSS_SCRIPT_MISSES:
        add(a, b, 0, "cross_script_near_miss")
    for name, others in FOREIGN_SAME:
        for other in others:
            add(name, other, 1, "foreign")
    return rows


def _split(pair_id: str) -> str:
    return "tune" if hashlib.sha256(pair_id.encode()).digest()[0] % 2 == 0 else "test"


def write(path: Path = OUT) -> int:
    rows = _rows()
    seen: set[tuple[str, str]] = set()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["pair_id", "name_a", "name_b", "same", "category", "split", "uscc_a",
                         "uscc_b"])
        n = 0
        for a, b, same, category in rows:
            key = (min(a, b), max(a, b))
            if key in seen:
                continue
            seen.add(key)
            pair_id = "P" + hashlib.sha256(f"{key[0]}\t{key[1]}".encode()).hexdigest()[:10]
            writer.writerow([pair_id, a, b, same, category, _split(pair_id), "", ""])
            n += 1
    return n


if __name__ == "__main__":
    print(write(), "pairs written to", OUT)
