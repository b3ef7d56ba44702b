"""Declarative description of the industrial chains the generator builds.

Each chain is a line of nine positions along the goods flow: five upstream tiers, the core
position and three downstream tiers. A position names the firms' role, the words their names
use, their GB/T 4754 industry code, the regions where such firms sit and the goods they sell.
Goods form product chains through ``inputs`` (cattle -> beef carcass -> beef cuts).
"""

from __future__ import annotations

from dataclasses import dataclass

UPSTREAM_TIERS = 5
DOWNSTREAM_TIERS = 3
CORE_FLOW = UPSTREAM_TIERS  # flow index of the core position; goods move to higher indexes
FLOW_POSITIONS = UPSTREAM_TIERS + 1 + DOWNSTREAM_TIERS


def tier_of_flow(flow: int) -> int:
    """Signed tier of a flow position: +k = k tiers upstream, 0 = core, -k = k downstream."""
    return CORE_FLOW - flow


@dataclass(frozen=True, slots=True)
class Goods:
    id: str
    name: str
    hs_code: str
    category: str
    unit: str
    price: int  # typical unit price in fen
    tax_bp: int  # VAT rate in basis points (agricultural produce 9%, most goods 13%)
    decimals: int  # decimals of quantities (0 for heads and pieces)
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Role:
    key: str
    words: tuple[tuple[str, str], ...]  # (Chinese industry word, English) used in names
    industry_code: str
    goods_id: str | None  # what firms in this role sell; None for end buyers
    regions: tuple[str, ...]  # GB/T 2260 codes where such firms are registered
    invoice_value: int  # median invoice amount in fen
    pay_days: int  # usual payment term of their buyers
    coop: bool = False  # farmers: some register as 农民专业合作社


@dataclass(frozen=True, slots=True)
class Chain:
    key: str
    name: str
    name_en: str
    roles: tuple[Role, ...]  # FLOW_POSITIONS roles, upstream first
    weight: float  # share of the enterprises
    asset_kind: str  # what its collateral mostly is
    warehouse_word: str


GOODS: tuple[Goods, ...] = (
    # beef cattle
    Goods("G-BEEF-SILAGE", "青贮饲草", "1214.90", "agricultural", "t", 60_000, 900, 2),
    Goods("G-BEEF-FEED", "育肥牛饲料", "2309.90", "intermediate", "t", 320_000, 900, 2,
          ("G-BEEF-SILAGE",)),
    Goods("G-BEEF-CALF", "犊牛", "0102.29", "livestock", "head", 600_000, 900, 0),
    Goods("G-BEEF-STORE", "架子牛", "0102.29", "livestock", "head", 1_100_000, 900, 0,
          ("G-BEEF-CALF",)),
    Goods("G-BEEF-CATTLE", "育肥肉牛", "0102.29", "livestock", "head", 1_800_000, 900, 0,
          ("G-BEEF-STORE", "G-BEEF-FEED")),
    Goods("G-BEEF-CARCASS", "牛胴体", "0201.20", "intermediate", "t", 6_000_000, 900, 3,
          ("G-BEEF-CATTLE",)),
    Goods("G-BEEF-CUTS", "分割牛肉", "0201.30", "finished", "t", 8_000_000, 900, 3,
          ("G-BEEF-CARCASS",)),
    Goods("G-BEEF-PRODUCT", "牛肉制品", "1602.50", "finished", "t", 11_000_000, 1300, 3,
          ("G-BEEF-CUTS",)),
    # copper
    Goods("G-CU-EQUIP", "矿山机械配件", "8431.43", "equipment", "pcs", 2_500_000, 1300, 0),
    Goods("G-CU-ORE", "铜矿石", "2603.00", "raw_material", "t", 50_000, 1300, 2),
    Goods("G-CU-CONC", "铜精矿", "2603.00", "intermediate", "t", 4_500_000, 1300, 3,
          ("G-CU-ORE",)),
    Goods("G-CU-CATHODE", "阴极铜", "7403.11", "intermediate", "t", 7_000_000, 1300, 3,
          ("G-CU-CONC",)),
    Goods("G-CU-ROD", "铜线杆", "7408.11", "intermediate", "t", 7_200_000, 1300, 3,
          ("G-CU-CATHODE",)),
    Goods("G-CU-CABLE", "电力电缆", "8544.49", "finished", "m", 12_000, 1300, 0,
          ("G-CU-ROD",)),
    Goods("G-CU-SUBSTATION", "箱式变电站", "8537.20", "finished", "pcs", 45_000_000, 1300, 0,
          ("G-CU-CABLE",)),
    # silk
    Goods("G-SILK-LEAF", "桑叶", "1214.90", "agricultural", "t", 150_000, 900, 2),
    Goods("G-SILK-EGG", "蚕种", "0511.99", "agricultural", "pcs", 3_500, 900, 0),
    Goods("G-SILK-COCOON", "鲜茧", "5001.00", "agricultural", "t", 5_000_000, 900, 3,
          ("G-SILK-LEAF", "G-SILK-EGG")),
    Goods("G-SILK-RAW", "生丝", "5002.00", "intermediate", "t", 40_000_000, 1300, 3,
          ("G-SILK-COCOON",)),
    Goods("G-SILK-FABRIC", "真丝面料", "5007.20", "intermediate", "m", 6_000, 1300, 1,
          ("G-SILK-RAW",)),
    Goods("G-SILK-GARMENT", "真丝服装", "6206.10", "finished", "pcs", 80_000, 1300, 0,
          ("G-SILK-FABRIC",)),
    # steel to machinery
    Goods("G-ST-ORE", "铁矿石", "2601.11", "raw_material", "t", 80_000, 1300, 2),
    Goods("G-ST-COKE", "冶金焦", "2704.00", "intermediate", "t", 220_000, 1300, 2),
    Goods("G-ST-BILLET", "钢坯", "7207.11", "intermediate", "t", 350_000, 1300, 2,
          ("G-ST-ORE", "G-ST-COKE")),
    Goods("G-ST-COIL", "热轧卷板", "7208.51", "intermediate", "t", 400_000, 1300, 2,
          ("G-ST-BILLET",)),
    Goods("G-ST-GEARBOX", "齿轮箱", "8483.40", "intermediate", "pcs", 1_200_000, 1300, 0,
          ("G-ST-COIL",)),
    Goods("G-ST-EXCAVATOR", "挖掘机", "8429.52", "finished", "pcs", 80_000_000, 1300, 0,
          ("G-ST-GEARBOX",)),
    Goods("G-ST-EARTHWORK", "土石方工程", "", "service", "pcs", 50_000_000, 900, 0,
          ("G-ST-EXCAVATOR",)),
    # electronics
    Goods("G-EL-SILICON", "工业硅", "2804.69", "raw_material", "t", 1_500_000, 1300, 2),
    Goods("G-EL-WAFER", "硅片", "3818.00", "intermediate", "pcs", 30_000, 1300, 0,
          ("G-EL-SILICON",)),
    Goods("G-EL-CHIP", "集成电路", "8542.31", "intermediate", "pcs", 5_000, 1300, 0,
          ("G-EL-WAFER",)),
    Goods("G-EL-PCB", "印刷电路板", "8534.00", "intermediate", "pcs", 12_000, 1300, 0),
    Goods("G-EL-BOARD", "主板组件", "8517.79", "intermediate", "pcs", 60_000, 1300, 0,
          ("G-EL-CHIP", "G-EL-PCB")),
    Goods("G-EL-PHONE", "智能手机", "8517.13", "finished", "pcs", 250_000, 1300, 0,
          ("G-EL-BOARD",)),
)

GOODS_BY_ID: dict[str, Goods] = {g.id: g for g in GOODS}

_BEEF_WEST = ("150100", "150400", "150500", "150700", "152500", "640100", "650100", "654000",
              "220100", "230100")
_BEEF_EAST = ("110000", "310000", "370200", "410100", "440100", "120000", "330100", "420100")
_CU_MINE = ("360600", "361100", "340700", "530100", "620300", "150200")
_CU_MAKE = ("360100", "340100", "320200", "330200", "440300", "130200")
_CU_USE = ("110000", "310000", "420100", "510100", "440100", "610100", "430100", "500000")
_SILK_FARM = ("330500", "330400", "320900", "511300", "451200", "450100")
_SILK_MAKE = ("330100", "320500", "330500", "330400", "511300")
_SILK_SELL = ("310000", "330100", "440100", "110000", "320500", "510100")
_ST_ORE = ("130200", "130400", "210300", "210500", "150200")
_ST_MAKE = ("130200", "210300", "320200", "371300", "420100", "120000")
_ST_USE = ("430100", "320500", "370200", "410100", "510100", "610100", "110000", "500000")
_EL_MAT = ("530100", "510100", "650100", "640100", "360100")
_EL_MAKE = ("440300", "441900", "320500", "320200", "310000", "340100", "510100")
_EL_SELL = ("440100", "440300", "110000", "310000", "420100", "330100", "500000")


def _role(
    key: str, words: tuple[tuple[str, str], ...], code: str, goods: str | None,
    regions: tuple[str, ...], value: int, pay_days: int, coop: bool = False,
) -> Role:
    return Role(key, words, code, goods, regions, value, pay_days, coop)


CHAINS: tuple[Chain, ...] = (
    Chain("beef", "肉牛产业链", "beef cattle", (
        _role("forage_farm", (("草业", "Forage"), ("农业", "Agriculture")), "A0190",
              "G-BEEF-SILAGE", _BEEF_WEST, 8_000_000, 30, coop=True),
        _role("feed_mill", (("饲料", "Feed"), ("农牧", "Agriculture and Animal Husbandry")),
              "C1320", "G-BEEF-FEED", _BEEF_WEST, 25_000_000, 45),
        _role("breeding_ranch", (("牧业", "Animal Husbandry"), ("畜牧", "Livestock")), "A0311",
              "G-BEEF-CALF", _BEEF_WEST, 20_000_000, 30, coop=True),
        _role("ranch", (("牧业", "Animal Husbandry"), ("牧场", "Ranch")), "A0311",
              "G-BEEF-STORE", _BEEF_WEST, 40_000_000, 30, coop=True),
        _role("feedlot", (("养殖", "Breeding"), ("牧业", "Animal Husbandry")), "A0311",
              "G-BEEF-CATTLE", _BEEF_WEST, 90_000_000, 45),
        _role("slaughterhouse", (("肉业", "Meat"), ("食品", "Food")), "C1351",
              "G-BEEF-CARCASS", _BEEF_WEST, 150_000_000, 60),
        _role("meat_processor", (("食品", "Food"), ("肉制品", "Meat Products")), "C1353",
              "G-BEEF-CUTS", _BEEF_EAST + _BEEF_WEST[:3], 60_000_000, 45),
        _role("meat_distributor", (("冷链物流", "Cold Chain Logistics"), ("商贸", "Trading")),
              "F5124", "G-BEEF-PRODUCT", _BEEF_EAST, 20_000_000, 30),
        _role("meat_retailer", (("超市", "Supermarket"), ("餐饮管理", "Catering Management")),
              "F5211", None, _BEEF_EAST, 5_000_000, 30),
    ), 0.24, "livestock", "冷库"),
    Chain("copper", "铜产业链", "copper", (
        _role("mining_equipment", (("机械", "Machinery"), ("矿山设备", "Mining Equipment")),
              "C3511", "G-CU-EQUIP", _CU_MINE + _CU_MAKE, 15_000_000, 60),
        _role("copper_mine", (("矿业", "Mining"), ("资源", "Resources")), "B0911",
              "G-CU-ORE", _CU_MINE, 60_000_000, 45),
        _role("concentrator", (("选矿", "Mineral Processing"), ("矿业", "Mining")), "B0911",
              "G-CU-CONC", _CU_MINE, 150_000_000, 45),
        _role("smelter", (("冶炼", "Smelting"), ("有色金属", "Nonferrous Metals")), "C3211",
              "G-CU-CATHODE", _CU_MINE + _CU_MAKE[:2], 300_000_000, 30),
        _role("rod_maker", (("铜业", "Copper"), ("铜材", "Copper Products")), "C3251",
              "G-CU-ROD", _CU_MAKE, 200_000_000, 45),
        _role("cable_maker", (("电缆", "Cable"), ("线缆", "Wire and Cable")), "C3831",
              "G-CU-CABLE", _CU_MAKE, 120_000_000, 60),
        _role("cable_distributor", (("电线电缆", "Wire and Cable Trading"), ("贸易", "Trading")),
              "F5175", "G-CU-CABLE", _CU_USE, 30_000_000, 60),
        _role("grid_contractor", (("电力工程", "Electric Power Engineering"),
                                  ("电气", "Electric")), "E4910",
              "G-CU-SUBSTATION", _CU_USE, 80_000_000, 90),
        _role("developer", (("置业", "Real Estate"), ("建设", "Construction")), "K7010",
              None, _CU_USE, 50_000_000, 90),
    ), 0.2, "warehouse_receipt", "有色金属仓库"),
    Chain("silk", "蚕桑丝绸产业链", "silk", (
        _role("mulberry_farm", (("农业", "Agriculture"), ("桑园", "Mulberry Garden")), "A0169",
              "G-SILK-LEAF", _SILK_FARM, 3_000_000, 30, coop=True),
        _role("egg_producer", (("蚕种", "Silkworm Egg"), ("蚕业", "Sericulture")), "A0392",
              "G-SILK-EGG", _SILK_FARM, 2_000_000, 30),
        _role("cocoon_farm", (("蚕业", "Sericulture"), ("蚕桑", "Sericulture")), "A0392",
              "G-SILK-COCOON", _SILK_FARM, 10_000_000, 30, coop=True),
        _role("reeler", (("丝业", "Silk Reeling"), ("茧丝", "Cocoon and Silk")), "C1741",
              "G-SILK-RAW", _SILK_MAKE, 60_000_000, 45),
        _role("weaver", (("丝绸", "Silk"), ("纺织", "Textile")), "C1742",
              "G-SILK-FABRIC", _SILK_MAKE, 30_000_000, 60),
        _role("garment_maker", (("服饰", "Apparel"), ("丝绸", "Silk")), "C1819",
              "G-SILK-GARMENT", _SILK_MAKE, 40_000_000, 60),
        _role("garment_wholesaler", (("贸易", "Trading"), ("服装", "Garment")), "F5132",
              "G-SILK-GARMENT", _SILK_SELL, 15_000_000, 45),
        _role("online_retailer", (("电子商务", "E-commerce"), ("商贸", "Trading")), "F5292",
              "G-SILK-GARMENT", _SILK_SELL, 5_000_000, 30),
        _role("department_store", (("百货", "Department Store"), ("商业", "Commercial")),
              "F5211", None, _SILK_SELL, 3_000_000, 30),
    ), 0.16, "inventory", "丝绸仓库"),
    Chain("steel", "钢铁-机械产业链", "steel to machinery", (
        _role("iron_mine", (("矿业", "Mining"), ("矿产", "Mineral")), "B0810",
              "G-ST-ORE", _ST_ORE, 80_000_000, 45),
        _role("coking", (("焦化", "Coking"), ("煤化", "Coal Chemical")), "C2521",
              "G-ST-COKE", _ST_ORE, 60_000_000, 45),
        _role("steel_mill", (("钢铁", "Iron and Steel"), ("特钢", "Special Steel")), "C3120",
              "G-ST-BILLET", _ST_MAKE, 200_000_000, 30),
        _role("rolling_mill", (("钢材", "Steel"), ("金属制品", "Metal Products")), "C3130",
              "G-ST-COIL", _ST_MAKE, 120_000_000, 45),
        _role("parts_maker", (("精密机械", "Precision Machinery"), ("传动", "Transmission")),
              "C3453", "G-ST-GEARBOX", _ST_MAKE + _ST_USE[:3], 30_000_000, 60),
        _role("machinery_oem", (("重工", "Heavy Industry"), ("机械", "Machinery")), "C3514",
              "G-ST-EXCAVATOR", _ST_MAKE + _ST_USE[:2], 160_000_000, 90),
        _role("machinery_dealer", (("机械设备", "Machinery Equipment"),
                                   ("工程机械", "Construction Machinery")),
              "F5174", "G-ST-EXCAVATOR", _ST_USE, 80_000_000, 60),
        _role("earthwork_contractor", (("建设工程", "Construction Engineering"),
                                       ("土石方工程", "Earthwork")), "E4899",
              "G-ST-EARTHWORK", _ST_USE, 50_000_000, 90),
        _role("developer", (("地产", "Real Estate"), ("置业", "Real Estate")), "K7010",
              None, _ST_USE, 50_000_000, 90),
    ), 0.2, "warehouse_receipt", "钢材仓库"),
    Chain("electronics", "电子信息产业链", "electronics", (
        _role("silicon_maker", (("硅业", "Silicon"), ("新材料", "New Materials")), "C3140",
              "G-EL-SILICON", _EL_MAT, 60_000_000, 45),
        _role("wafer_maker", (("半导体材料", "Semiconductor Materials"),
                              ("硅材料", "Silicon Materials")),
              "C3985", "G-EL-WAFER", _EL_MAT + _EL_MAKE[:2], 50_000_000, 60),
        _role("chip_fab", (("微电子", "Microelectronics"), ("半导体", "Semiconductor")), "C3973",
              "G-EL-CHIP", _EL_MAKE, 80_000_000, 60),
        _role("pcb_maker", (("电路", "Circuit"), ("电子", "Electronics")), "C3982",
              "G-EL-PCB", _EL_MAKE, 20_000_000, 60),
        _role("module_maker", (("电子", "Electronics"), ("智能科技", "Intelligent Technology")),
              "C3979", "G-EL-BOARD", _EL_MAKE, 60_000_000, 60),
        _role("device_oem", (("通讯", "Communication"), ("科技", "Technology")), "C3922",
              "G-EL-PHONE", _EL_MAKE, 150_000_000, 90),
        _role("device_distributor", (("数码", "Digital"), ("供应链", "Supply Chain")), "F5178",
              "G-EL-PHONE", _EL_SELL, 40_000_000, 45),
        _role("device_retailer", (("电器", "Electric Appliance"),
                                  ("通讯器材", "Telecom Equipment")),
              "F5274", "G-EL-PHONE", _EL_SELL, 8_000_000, 30),
        _role("store", (("商贸", "Trading"), ("数码科技", "Digital Technology")), "F5274",
              None, _EL_SELL, 3_000_000, 30),
    ), 0.2, "inventory", "电子仓库"),
)

CHAIN_INDEX: dict[str, int] = {c.key: i for i, c in enumerate(CHAINS)}
