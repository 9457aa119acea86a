"""The synthetic registry: households as the registry's API takes them (client ids
included), and a known set of planted duplicates to measure deduplication against.

Proportions follow ../shared/DOMAIN.md: half the registry in Djibouti city, 3-4 % refugee and
asylum-seeker households concentrated in Ali Addeh, Holl Holl, Markazi and Balbala, households
of 1 to 12 people (about 6 on average), given names drawn with their many spellings, and the
father / grandfather chains that make a Somali or Afar name.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from inds.synthetic.names import FEMALE, MALE

REGIONS = {  # region -> (weight, [(locality, weight, area)])
    "DJ-DJ": (
        50,
        [
            ("DJ-DJ-BALBALA-PK12", 14, "urban"),
            ("DJ-DJ-BALBALA-HAYABLEH", 10, "urban"),
            ("DJ-DJ-BALBALA-HODAN", 9, "urban"),
            ("DJ-DJ-BALBALA-WARABALEH", 7, "urban"),
            ("DJ-DJ-BALBALA-LAYABLEH", 6, "urban"),
            ("DJ-DJ-BOULAOS-ARHIBA", 8, "urban"),
            ("DJ-DJ-BOULAOS-DJEBEL", 6, "urban"),
            ("DJ-DJ-BOULAOS-Q7", 6, "urban"),
            ("DJ-DJ-BOULAOS-CHEIKOSMAN", 5, "urban"),
            ("DJ-DJ-RASDIKA-Q1", 4, "urban"),
            ("DJ-DJ-RASDIKA-Q2", 4, "urban"),
            ("DJ-DJ-RASDIKA-MARABOUT", 4, "urban"),
            ("DJ-DJ-RASDIKA-HERON", 2, "urban"),
            ("DJ-DJ-RASDIKA-PLATEAU", 2, "urban"),
        ],
    ),
    "DJ-AS": (
        12,
        [
            ("DJ-AS-ALISABIEH-VILLE", 50, "urban"),
            ("DJ-AS-ALISABIEH-DASBIO", 12, "rural"),
            ("DJ-AS-ALISABIEH-ASSAMO", 10, "rural"),
            ("DJ-AS-ALIADDEH-BOURG", 10, "rural"),
            ("DJ-AS-HOLLHOLL-BOURG", 10, "rural"),
        ],
    ),
    "DJ-DI": (
        12,
        [
            ("DJ-DI-DIKHIL-VILLE", 45, "urban"),
            ("DJ-DI-DIKHIL-MOULOUD", 15, "rural"),
            ("DJ-DI-DIKHIL-GAGGADE", 10, "rural"),
            ("DJ-DI-ASEYLA-VILLE", 15, "rural"),
            ("DJ-DI-YOBOKI-VILLE", 15, "rural"),
        ],
    ),
    "DJ-TA": (
        12,
        [
            ("DJ-TA-TADJOURAH-VILLE", 45, "urban"),
            ("DJ-TA-TADJOURAH-AMBABO", 10, "rural"),
            ("DJ-TA-DORRA-VILLE", 15, "rural"),
            ("DJ-TA-RANDA-VILLE", 15, "rural"),
            ("DJ-TA-BALHO-VILLE", 15, "rural"),
        ],
    ),
    "DJ-AR": (
        7,
        [
            ("DJ-AR-ARTA-VILLE", 45, "urban"),
            ("DJ-AR-ARTA-WEA", 20, "rural"),
            ("DJ-AR-ARTA-DAMERJOG", 20, "rural"),
            ("DJ-AR-ARTA-KARTA", 15, "rural"),
        ],
    ),
    "DJ-OB": (
        7,
        [
            ("DJ-OB-OBOCK-VILLE", 55, "urban"),
            ("DJ-OB-OBOCK-KHORANGAR", 20, "rural"),
            ("DJ-OB-ALAILIDADDA-VILLE", 25, "rural"),
        ],
    ),
}
REFUGEE_LOCALITIES = [
    ("DJ-AS-ALIADDEH-VILLAGE", 40, "rural"),
    ("DJ-AS-HOLLHOLL-VILLAGE", 20, "rural"),
    ("DJ-OB-OBOCK-MARKAZI", 10, "rural"),
    ("DJ-DJ-BALBALA-PK12", 18, "urban"),
    ("DJ-DJ-BALBALA-HAYABLEH", 12, "urban"),
]
REFUGEE_ORIGINS = [("SO", 60), ("ET", 28), ("YE", 8), ("ER", 4)]
REFUGEE_SHARE = 0.035
HOUSEHOLD_SIZES = [
    (1, 4),
    (2, 7),
    (3, 10),
    (4, 12),
    (5, 13),
    (6, 13),
    (7, 12),
    (8, 10),
    (9, 7),
    (10, 5),
    (11, 4),
    (12, 3),
]

URBAN_CONDITIONS = {
    "dwelling_type": [
        ("house", 35),
        ("apartment", 10),
        ("shack", 45),
        ("traditional_hut", 5),
        ("other", 5),
    ],
    "tenure": [("owner", 35), ("tenant", 40), ("free_lodging", 15), ("informal", 10)],
    "wall_material": [("cement", 35), ("stone", 15), ("sheet_metal", 40), ("wood", 10)],
    "roof_material": [("concrete", 20), ("sheet_metal", 70), ("wood", 5), ("tarpaulin", 5)],
    "floor_material": [("tiles", 15), ("cement", 60), ("earth", 20), ("sand", 5)],
    "water_source": [
        ("piped_dwelling", 30),
        ("piped_yard", 25),
        ("public_tap", 35),
        ("tanker", 10),
    ],
    "sanitation": [
        ("flush_toilet", 25),
        ("improved_latrine", 45),
        ("traditional_latrine", 25),
        ("none", 5),
    ],
    "lighting": [("electricity", 80), ("solar", 10), ("kerosene", 5), ("candles", 5)],
    "cooking_fuel": [("gas", 45), ("charcoal", 35), ("kerosene", 10), ("wood", 10)],
}
RURAL_CONDITIONS = {
    "dwelling_type": [("traditional_hut", 55), ("house", 15), ("shack", 20), ("tent", 10)],
    "tenure": [("owner", 60), ("free_lodging", 25), ("informal", 15)],
    "wall_material": [("branches", 40), ("stone", 25), ("mud", 20), ("sheet_metal", 15)],
    "roof_material": [("thatch", 40), ("sheet_metal", 35), ("tarpaulin", 25)],
    "floor_material": [("earth", 65), ("sand", 25), ("cement", 10)],
    "water_source": [
        ("protected_well", 30),
        ("unprotected_well", 30),
        ("public_tap", 20),
        ("tanker", 10),
        ("surface", 10),
    ],
    "sanitation": [("none", 45), ("traditional_latrine", 40), ("improved_latrine", 15)],
    "lighting": [
        ("solar", 35),
        ("kerosene", 25),
        ("candles", 15),
        ("none", 15),
        ("electricity", 10),
    ],
    "cooking_fuel": [("wood", 70), ("charcoal", 25), ("kerosene", 5)],
}
ASSETS = [
    ("mobile_phone", 0.75),
    ("radio", 0.35),
    ("television", 0.35),
    ("refrigerator", 0.2),
    ("goats", 0.3),
    ("sheep", 0.12),
    ("camels", 0.05),
    ("motorbike", 0.04),
    ("car", 0.04),
    ("solar_panel", 0.12),
    ("sewing_machine", 0.04),
    ("computer", 0.03),
]
SHOCKS = [
    ("drought", 0.15),
    ("job_loss", 0.08),
    ("illness", 0.1),
    ("death_of_earner", 0.03),
    ("flood", 0.03),
]
WG_DOMAINS = ("seeing", "hearing", "walking", "cognition", "self_care", "communication")


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    total = sum(weight for _, weight in weighted)
    point = rng.uniform(0, total)
    for value, weight in weighted:
        point -= weight
        if point <= 0:
            return value
    return weighted[-1][0]


@dataclass
class PlantedDuplicate:
    original_household_id: str
    original_individual_id: str
    duplicate_individual_id: str
    duplicate_household_id: str
    changes: list[str]
    # Registration sources: an imported household's id derives from its source and key.
    original_source: str = ""
    duplicate_source: str = ""


@dataclass
class _Person:
    canonical: int  # index of the name in MALE or FEMALE
    record: dict[str, Any]


@dataclass(order=True)
class _Due:
    at: int
    household: dict[str, Any] = field(compare=False)


class RegistryGenerator:
    def __init__(self, seed: int = 1, duplicate_rate: float = 0.01, today: date = date(2026, 1, 1)):
        self.rng = random.Random(seed)
        self.seed = seed
        self.duplicate_rate = duplicate_rate
        self.today = today
        self.planted: list[PlantedDuplicate] = []
        self._counters: dict[str, int] = {}
        self._due: list[_Due] = []

    # -- names ---------------------------------------------------------------------------

    def _name(self, sex: str) -> tuple[int, str]:
        table = MALE if sex == "M" else FEMALE
        index = _pick(self.rng, [(i, weight) for i, (weight, _) in enumerate(table)])
        return index, _pick(self.rng, table[index][1])

    def _spelling(self, sex: str, index: int, avoid: str | None = None) -> str:
        spellings = (MALE if sex == "M" else FEMALE)[index][1]
        others = [(s, w) for s, w in spellings if s != avoid] or spellings
        return _pick(self.rng, others)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _next(self, kind: str) -> int:
        """Identifier numbers: counted, and prefixed by the seed so that registries made
        with different seeds can be loaded together without clashing."""
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return self.seed % 10_000 * 10_000_000 + self._counters[kind]

    # -- people --------------------------------------------------------------------------

    def _birth(self, age: int) -> tuple[str, bool]:
        """A birth date `age` years before the reference date, never after it."""
        estimated = self.rng.random() < (0.45 if age > 40 else 0.15)
        born = self.today - timedelta(days=age * 365 + self.rng.randrange(365))
        if estimated:
            return min(date(born.year, 7, 1), self.today).isoformat(), True
        return born.isoformat(), False

    def _person(
        self,
        sex: str,
        age: int,
        relationship: str,
        father: str | None,
        grandfather: str | None,
        legal_status: str,
        origin: str | None,
    ) -> _Person:
        index, given = self._name(sex)
        birth_date, estimated = self._birth(max(0, age))
        record: dict[str, Any] = {
            "id": self._uuid(),
            "given_name": given,
            "father_name": father,
            "grandfather_name": grandfather,
            "sex": sex,
            "birth_date": birth_date,
            "birth_date_estimated": estimated,
            "relationship_to_head": relationship,
            "legal_status": legal_status,
            "nationality": origin or "DJ",
            "country_of_origin": origin,
            "identifiers": [],
        }
        if self.rng.random() < (0.03 if age < 50 else 0.12):
            domain = self.rng.choice(WG_DOMAINS)
            record["disability"] = {domain: self.rng.choice((3, 3, 4))}
        if sex == "F" and 16 <= age <= 45:
            roll = self.rng.random()
            record["pregnant"] = roll < 0.06
            record["lactating"] = 0.06 <= roll < 0.16
        if age >= 6:
            record["education_level"] = _pick(
                self.rng,
                [
                    ("none", 35),
                    ("koranic", 10),
                    ("primary", 30),
                    ("middle", 12),
                    ("secondary", 9),
                    ("vocational", 2),
                    ("tertiary", 2),
                ],
            )
        if legal_status in ("refugee", "asylum_seeker"):
            record["identifiers"].append(
                {"type": "unhcr_individual", "value": f"DJI-{self._next('unhcr'):011d}"}
            )
        elif age >= 18 and self.rng.random() < 0.65:
            record["identifiers"].append(
                {"type": "national_id", "value": f"{self._next('nid'):011d}"}
            )
        elif age < 18 and self.rng.random() < 0.4:
            record["identifiers"].append(
                {"type": "birth_certificate", "value": f"AN{self._next('birth'):011d}"}
            )
        return _Person(index, record)

    # -- households ----------------------------------------------------------------------

    def _household(self) -> tuple[dict[str, Any], list[_Person]]:
        rng = self.rng
        refugee = rng.random() < REFUGEE_SHARE
        if refugee:
            locality, _, area = _pick(rng, [((c, w, a), w) for c, w, a in REFUGEE_LOCALITIES])
            origin = _pick(rng, REFUGEE_ORIGINS)
            legal_status = "refugee" if rng.random() < 0.8 else "asylum_seeker"
        else:
            region = _pick(rng, [(code, weight) for code, (weight, _) in REGIONS.items()])
            locality, _, area = _pick(rng, [((c, w, a), w) for c, w, a in REGIONS[region][1]])
            origin, legal_status = None, "national"
        size = _pick(rng, HOUSEHOLD_SIZES)
        head_sex = "M" if rng.random() < 0.72 else "F"
        head_age = min(85, max(19, int(rng.triangular(19, 80, 38))))
        _, head_father = self._name("M")
        _, head_grandfather = self._name("M")
        head = self._person(
            head_sex, head_age, "head", head_father, head_grandfather, legal_status, origin
        )
        people = [head]
        if size > 1 and rng.random() < 0.8:
            spouse_sex = "F" if head_sex == "M" else "M"
            spouse_age = max(
                17, head_age + (rng.randint(-14, 2) if head_sex == "M" else rng.randint(-2, 10))
            )
            _, father = self._name("M")
            _, grandfather = self._name("M")
            people.append(
                self._person(
                    spouse_sex, spouse_age, "spouse", father, grandfather, legal_status, origin
                )
            )
        # Children take their father's given name and his father's name.
        if head_sex == "M":
            child_father, child_grandfather = head.record["given_name"], head.record["father_name"]
        elif len(people) > 1:
            child_father, child_grandfather = (
                people[1].record["given_name"],
                people[1].record["father_name"],
            )
        else:
            child_father, child_grandfather = self._name("M")[1], self._name("M")[1]
        mothers = [p for p in people[:2] if p.record["sex"] == "F"]
        mother_age = (
            self.today.year - int(mothers[0].record["birth_date"][:4]) if mothers else head_age
        )
        while len(people) < size:
            roll = rng.random()
            if roll < 0.82:
                age = rng.randint(0, max(0, min(25, mother_age - 16)))
                people.append(
                    self._person(
                        rng.choice("MF"),
                        age,
                        "child",
                        child_father,
                        child_grandfather,
                        legal_status,
                        origin,
                    )
                )
            elif roll < 0.9 and head_age < 60:
                _, father = self._name("M")
                people.append(
                    self._person(
                        rng.choice("MF"),
                        head_age + rng.randint(18, 30),
                        "parent",
                        head.record["father_name"] if rng.random() < 0.5 else father,
                        self._name("M")[1],
                        legal_status,
                        origin,
                    )
                )
            elif roll < 0.95 and head_age > 45:
                people.append(
                    self._person(
                        rng.choice("MF"),
                        rng.randint(0, 10),
                        "grandchild",
                        self._name("M")[1],
                        child_father,
                        legal_status,
                        origin,
                    )
                )
            else:
                people.append(
                    self._person(
                        rng.choice("MF"),
                        rng.randint(5, 40),
                        "other_relative",
                        self._name("M")[1],
                        self._name("M")[1],
                        legal_status,
                        origin,
                    )
                )
        if rng.random() < 0.75:
            head.record["identifiers"].append(
                {"type": "phone", "value": f"77{rng.randrange(10**6):06d}"}
            )
        if refugee:
            case = f"DJI-C-{self._next('case'):011d}"
            for person in people:
                person.record["identifiers"].append({"type": "unhcr_case", "value": case})
        if rng.random() < 0.08:
            head.record["identifiers"].append(
                {"type": "wfp_scope", "value": f"SCOPE{self._next('scope'):011d}"}
            )
        return self._wrap(locality, area, refugee, legal_status, [p.record for p in people]), people

    def _wrap(
        self, locality: str, area: str, refugee: bool, legal_status: str, members: list[dict]
    ) -> dict[str, Any]:
        rng = self.rng
        table = URBAN_CONDITIONS if area == "urban" else RURAL_CONDITIONS
        conditions: dict[str, Any] = {key: _pick(rng, options) for key, options in table.items()}
        conditions["rooms"] = max(1, min(8, int(rng.triangular(1, 6, 2))))
        conditions["assets"] = sorted(
            asset
            for asset, p in ASSETS
            if rng.random()
            < p * (0.7 if area == "rural" and asset in ("television", "refrigerator") else 1)
        )
        conditions["shocks"] = sorted(shock for shock, p in SHOCKS if rng.random() < p)
        registered = date(2019, 1, 1) + timedelta(
            days=rng.randrange((self.today - date(2019, 1, 1)).days)
        )
        source = _pick(rng, [("door_to_door", 60), ("social_desk", 25), ("field_app", 15)])
        registration: dict[str, Any] = {
            "source": source,
            "date": registered.isoformat(),
            "enumerator_id": f"ENUM-{rng.randint(1, 240):03d}",
        }
        if source == "field_app":
            registration.update(
                device_id=f"TAB-{rng.randint(1, 120):03d}", submission_id=self._uuid()
            )
        return {
            "id": self._uuid(),
            "location": {"locality_code": locality, "area": area},
            "living_conditions": conditions,
            "displacement_status": legal_status
            if refugee
            else ("internally_displaced" if rng.random() < 0.01 else "none"),
            "registration": registration,
            "consent": {
                "given": True,
                "date": registered.isoformat(),
                "scope": ["programmes", "registry"],
                "method": _pick(
                    rng, [("thumbprint", 50), ("verbal", 30), ("written", 15), ("digital", 5)]
                ),
                "notice_version": "2019-1" if registered.year < 2023 else "2023-1",
            },
            "members": members,
        }

    # -- planted duplicates --------------------------------------------------------------

    def _typo(self, word: str) -> str:
        if len(word) < 4:
            return word
        i = self.rng.randrange(1, len(word) - 1)
        kind = self.rng.choice(("drop", "swap", "double"))
        if kind == "drop":
            return word[:i] + word[i + 1 :]
        if kind == "swap":
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        return word[:i] + word[i] + word[i:]

    def _plant(self, household: dict[str, Any], people: list[_Person]) -> _Due | None:
        adults = [p for p in people if p.record["birth_date"] <= f"{self.today.year - 16}"]
        if not adults:
            return None
        original = self.rng.choice(adults)
        record = dict(original.record)
        changes: list[str] = []
        sex = record["sex"]
        variant = self._spelling(sex, original.canonical, avoid=record["given_name"])
        if variant != record["given_name"]:
            record["given_name"] = variant
            changes.append("given_name_spelling")
        if self.rng.random() < 0.3:
            part = self.rng.choice(("given_name", "father_name", "grandfather_name"))
            if record.get(part):
                record[part] = self._typo(record[part])
                changes.append(f"{part}_typo")
        roll = self.rng.random()
        born = date.fromisoformat(record["birth_date"])
        if roll < 0.45:
            born += timedelta(days=self.rng.choice((-1, 1)) * self.rng.randint(1, 40))
            changes.append("birth_date_days")
        elif roll < 0.65:
            born = date(born.year + self.rng.choice((-1, 1)), 7, 1)
            record["birth_date_estimated"] = True
            changes.append("birth_date_year")
        record["birth_date"] = born.isoformat()
        record["id"] = self._uuid()
        record["relationship_to_head"] = "head"
        record["identifiers"] = [
            i for i in record["identifiers"] if i["type"] in ("phone", "unhcr_case")
        ]
        record.pop("pregnant", None)
        record.pop("lactating", None)
        same_region = self.rng.random() < 0.7
        location = household["location"]
        if not same_region:
            region = _pick(self.rng, [(code, weight) for code, (weight, _) in REGIONS.items()])
            locality, _, area = _pick(self.rng, [((c, w, a), w) for c, w, a in REGIONS[region][1]])
            location = {"locality_code": locality, "area": area}
        duplicate = self._wrap(
            location["locality_code"],
            location["area"],
            record["legal_status"] != "national",
            record["legal_status"],
            [record],
        )
        self.planted.append(
            PlantedDuplicate(
                household["id"],
                original.record["id"],
                record["id"],
                duplicate["id"],
                changes,
                household["registration"]["source"],
                duplicate["registration"]["source"],
            )
        )
        return _Due(0, duplicate)

    # -- the stream ----------------------------------------------------------------------

    def households(self, count: int) -> Iterator[dict[str, Any]]:
        """`count` households, planted re-registrations included, in registration order."""
        produced = 0
        while produced < count:
            if self._due and self._due[0].at <= produced:
                yield heapq.heappop(self._due).household
            else:
                household, people = self._household()
                yield household
                remaining = count - produced - 1 - len(self._due)
                if remaining > 0 and self.rng.random() < self.duplicate_rate:
                    due = self._plant(household, people)
                    if due is not None:
                        due.at = produced + self.rng.randint(1, min(500, remaining))
                        heapq.heappush(self._due, due)
            produced += 1
