"""A built-in table of Chinese prefecture-level divisions (GB/T 2260 codes) used by the generator.

Only cities that the generated chains need are listed; codes, names and rough coordinates are
real so that addresses, USCC region segments and warehouse positions look plausible.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # 6-digit GB/T 2260 code of the city (prefecture level)
    province: str  # full province name, e.g. 内蒙古自治区
    province_short: str  # as used at the start of a company name, e.g. 内蒙古
    province_en: str
    city: str  # full city name, e.g. 呼和浩特市
    city_short: str  # e.g. 呼和浩特
    city_en: str
    lat: float
    lon: float
    area_code: str  # telephone area code


def _r(
    code: str, prov: str, prov_short: str, prov_en: str, city: str, city_en: str,
    lat: float, lon: float, area: str,
) -> Region:
    short = city
    for suffix in ("自治州", "地区", "市", "盟"):
        if short.endswith(suffix) and len(short) > len(suffix) + 1:
            short = short[: -len(suffix)]
            break
    return Region(code, prov, prov_short, prov_en, city, short, city_en, lat, lon, area)


REGIONS: tuple[Region, ...] = (
    _r("110000", "北京市", "北京", "Beijing", "北京市", "Beijing", 39.90, 116.41, "010"),
    _r("310000", "上海市", "上海", "Shanghai", "上海市", "Shanghai", 31.23, 121.47, "021"),
    _r("120000", "天津市", "天津", "Tianjin", "天津市", "Tianjin", 39.08, 117.20, "022"),
    _r("130200", "河北省", "河北", "Hebei", "唐山市", "Tangshan", 39.63, 118.18, "0315"),
    _r("130400", "河北省", "河北", "Hebei", "邯郸市", "Handan", 36.63, 114.54, "0310"),
    _r("150100", "内蒙古自治区", "内蒙古", "Inner Mongolia", "呼和浩特市", "Hohhot",
       40.84, 111.75, "0471"),
    _r("150200", "内蒙古自治区", "内蒙古", "Inner Mongolia", "包头市", "Baotou",
       40.66, 109.84, "0472"),
    _r("150400", "内蒙古自治区", "内蒙古", "Inner Mongolia", "赤峰市", "Chifeng",
       42.26, 118.89, "0476"),
    _r("150500", "内蒙古自治区", "内蒙古", "Inner Mongolia", "通辽市", "Tongliao",
       43.65, 122.24, "0475"),
    _r("150700", "内蒙古自治区", "内蒙古", "Inner Mongolia", "呼伦贝尔市", "Hulunbuir",
       49.21, 119.77, "0470"),
    _r("152500", "内蒙古自治区", "内蒙古", "Inner Mongolia", "锡林郭勒盟", "Xilingol",
       43.93, 116.05, "0479"),
    _r("210300", "辽宁省", "辽宁", "Liaoning", "鞍山市", "Anshan", 41.11, 122.99, "0412"),
    _r("210500", "辽宁省", "辽宁", "Liaoning", "本溪市", "Benxi", 41.29, 123.77, "024"),
    _r("220100", "吉林省", "吉林", "Jilin", "长春市", "Changchun", 43.82, 125.32, "0431"),
    _r("230100", "黑龙江省", "黑龙江", "Heilongjiang", "哈尔滨市", "Harbin",
       45.80, 126.53, "0451"),
    _r("320200", "江苏省", "江苏", "Jiangsu", "无锡市", "Wuxi", 31.49, 120.31, "0510"),
    _r("320500", "江苏省", "江苏", "Jiangsu", "苏州市", "Suzhou", 31.30, 120.59, "0512"),
    _r("320900", "江苏省", "江苏", "Jiangsu", "盐城市", "Yancheng", 33.35, 120.16, "0515"),
    _r("330100", "浙江省", "浙江", "Zhejiang", "杭州市", "Hangzhou", 30.27, 120.15, "0571"),
    _r("330200", "浙江省", "浙江", "Zhejiang", "宁波市", "Ningbo", 29.87, 121.54, "0574"),
    _r("330400", "浙江省", "浙江", "Zhejiang", "嘉兴市", "Jiaxing", 30.75, 120.76, "0573"),
    _r("330500", "浙江省", "浙江", "Zhejiang", "湖州市", "Huzhou", 30.89, 120.09, "0572"),
    _r("340100", "安徽省", "安徽", "Anhui", "合肥市", "Hefei", 31.82, 117.23, "0551"),
    _r("340700", "安徽省", "安徽", "Anhui", "铜陵市", "Tongling", 30.94, 117.81, "0562"),
    _r("360100", "江西省", "江西", "Jiangxi", "南昌市", "Nanchang", 28.68, 115.86, "0791"),
    _r("360600", "江西省", "江西", "Jiangxi", "鹰潭市", "Yingtan", 28.26, 117.07, "0701"),
    _r("361100", "江西省", "江西", "Jiangxi", "上饶市", "Shangrao", 28.45, 117.94, "0793"),
    _r("370200", "山东省", "山东", "Shandong", "青岛市", "Qingdao", 36.07, 120.38, "0532"),
    _r("371300", "山东省", "山东", "Shandong", "临沂市", "Linyi", 35.10, 118.36, "0539"),
    _r("410100", "河南省", "河南", "Henan", "郑州市", "Zhengzhou", 34.75, 113.63, "0371"),
    _r("420100", "湖北省", "湖北", "Hubei", "武汉市", "Wuhan", 30.59, 114.31, "027"),
    _r("430100", "湖南省", "湖南", "Hunan", "长沙市", "Changsha", 28.23, 112.94, "0731"),
    _r("440100", "广东省", "广东", "Guangdong", "广州市", "Guangzhou", 23.13, 113.26, "020"),
    _r("440300", "广东省", "广东", "Guangdong", "深圳市", "Shenzhen", 22.54, 114.06, "0755"),
    _r("441900", "广东省", "广东", "Guangdong", "东莞市", "Dongguan", 23.02, 113.75, "0769"),
    _r("450100", "广西壮族自治区", "广西", "Guangxi", "南宁市", "Nanning",
       22.82, 108.37, "0771"),
    _r("451200", "广西壮族自治区", "广西", "Guangxi", "河池市", "Hechi", 24.69, 108.09, "0778"),
    _r("500000", "重庆市", "重庆", "Chongqing", "重庆市", "Chongqing", 29.56, 106.55, "023"),
    _r("510100", "四川省", "四川", "Sichuan", "成都市", "Chengdu", 30.57, 104.07, "028"),
    _r("511300", "四川省", "四川", "Sichuan", "南充市", "Nanchong", 30.84, 106.11, "0817"),
    _r("530100", "云南省", "云南", "Yunnan", "昆明市", "Kunming", 25.04, 102.71, "0871"),
    _r("610100", "陕西省", "陕西", "Shaanxi", "西安市", "Xi'an", 34.34, 108.94, "029"),
    _r("620300", "甘肃省", "甘肃", "Gansu", "金昌市", "Jinchang", 38.52, 102.19, "0935"),
    _r("640100", "宁夏回族自治区", "宁夏", "Ningxia", "银川市", "Yinchuan",
       38.49, 106.23, "0951"),
    _r("650100", "新疆维吾尔自治区", "新疆", "Xinjiang", "乌鲁木齐市", "Urumqi",
       43.83, 87.62, "0991"),
    _r("654000", "新疆维吾尔自治区", "新疆", "Xinjiang", "伊犁哈萨克自治州", "Ili",
       43.92, 81.32, "0999"),
)

REGION_INDEX: dict[str, int] = {r.code: i for i, r in enumerate(REGIONS)}

# Road names for street addresses.
ROADS: tuple[str, ...] = (
    "人民路", "建设路", "解放路", "中山路", "新华路", "长江路", "黄河路", "胜利路", "和平路",
    "工业大道", "开发区大道", "振兴路", "民族路", "团结路", "育才路", "创业路", "科技路",
    "滨河路", "青年路", "朝阳路", "文化路", "光明路", "纬一路", "经二路", "迎宾大道",
)
