"""A labelled test set for duplicate detection, built as a ministry's data looks, and kept
deliberately apart from `inds/synthetic` (its own names, spellings, households and
errors), so that tuning on it does not tune on the generator the registry is seeded from.

A registry of households (heads, spouses, children named after their father, some with
a parent), then, added to it:

- re-registrations (positives), each person labelled with the kinds of error made:
  `transcription` (French / Somali Latin / English spellings: Mohamed / Maxamed /
  Muhammad, Yacoub / Yaqub, Zainab / Zeinab, Hibo / Hibaaq), `typo`, `spacing`
  (Abdi Rahman / Abdirahman), `dropped_grandfather`, and the birth date as people get it
  wrong: `year_off` (exact dates, year one apart), `day_month_swap`, `jan1_year_only` (1
  January entered for an unknown date, no estimated flag). A re-registration is the whole
  household again, or the person alone with the family's phone, or alone in the same
  locality; a weak date (year off, swapped, 1 January) always comes with one of those,
  since nothing else could tell it from a namesake;
- look-alikes (negatives): `sibling` (same father and grandfather, another given name),
  `twin` (also the same birth date), `namesake_generation` (the same three names, 20-35
  years apart), `namesake_year_elsewhere` (the same three names, a year apart, another
  region, another family).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

# canonical name -> spellings (French, Somali Latin, English, Arabic-style), weight
MALE: list[tuple[int, list[str]]] = [
    (60, ["Mohamed", "Mahamed", "Maxamed", "Muhammad", "Mohammed", "Mouhamed"]),
    (30, ["Abdi", "Abdy", "Cabdi", "Abdou"]),
    (25, ["Ali", "Cali", "Aly"]),
    (25, ["Ahmed", "Axmed", "Ahmad"]),
    (20, ["Yacoub", "Yaqub", "Yakub", "Yacquub"]),
    (20, ["Ousman", "Osman", "Cismaan", "Usman"]),
    (18, ["Omar", "Oumar", "Cumar"]),
    (18, ["Hassan", "Xasan", "Hasan"]),
    (18, ["Houssein", "Hussein", "Xuseen", "Hussain"]),
    (15, ["Abdirahman", "Abdourahman", "Abdi Rahman", "Cabdiraxmaan"]),
    (15, ["Abdoulkader", "Abdulkadir", "Abdoul Kader", "Cabdulqaadir"]),
    (14, ["Ibrahim", "Ibraahim", "Ibrahiim"]),
    (14, ["Youssouf", "Yusuf", "Yuusuf"]),
    (12, ["Ismail", "Ismaaciil", "Ismael"]),
    (12, ["Said", "Saciid", "Saeed", "Sayid"]),
    (12, ["Moussa", "Muuse", "Musa"]),
    (10, ["Djibril", "Jibriil", "Jibril"]),
    (10, ["Abdillahi", "Abdullahi", "Cabdullaahi"]),
    (10, ["Mahamoud", "Maxamuud", "Mahmoud"]),
    (9, ["Idriss", "Idiris", "Idris"]),
    (9, ["Aden", "Aadan", "Adan"]),
    (8, ["Farah", "Faarax", "Fara"]),
    (8, ["Elmi", "Cilmi", "Ilmi"]),
    (8, ["Bileh", "Bile", "Bilal"]),
    (8, ["Doualeh", "Duale", "Dualeh"]),
    (7, ["Guelleh", "Geelle", "Gelle"]),
    (7, ["Kadir", "Qaadir", "Kader"]),
    (7, ["Nour", "Nuur", "Nur"]),
    (6, ["Salah", "Saalax", "Saleh"]),
    (6, ["Warsama", "Warsame", "Ouarsame"]),
    (5, ["Hamza", "Xamsa", "Hamsa"]),
    (5, ["Jama", "Djama", "Jaamac"]),
    (5, ["Abdo", "Cabdo", "Abdu"]),
    (4, ["Shukri", "Shoukri", "Chukri"]),
    (4, ["Yonis", "Yoonis", "Younis"]),
    (4, ["Dahir", "Daahir", "Daher"]),
    (3, ["Mahad", "Maxad"]),
    (3, ["Ayanleh", "Ayaanle", "Ayanle"]),
    (3, ["Khalid", "Khaled", "Khaalid"]),
    (3, ["Sharmarke", "Charmarke"]),
]
FEMALE: list[tuple[int, list[str]]] = [
    (30, ["Fatouma", "Fadumo", "Faadumo", "Fatuma", "Fatima"]),
    (25, ["Amina", "Aamina", "Ameena"]),
    (20, ["Zainab", "Zeinab", "Zaynab", "Seynab"]),
    (20, ["Hawa", "Xaawo", "Hawo"]),
    (20, ["Khadija", "Khadidja", "Xadiijo", "Hadija"]),
    (18, ["Hibo", "Hibaaq", "Hiba"]),
    (18, ["Asha", "Aicha", "Aisha", "Caasha"]),
    (15, ["Halima", "Xaliimo", "Halimo"]),
    (15, ["Mariam", "Maryan", "Maryam", "Meriem"]),
    (12, ["Safia", "Saafiya", "Safiya"]),
    (12, ["Sahra", "Zahra", "Saxra"]),
    (12, ["Deka", "Deeqa", "Dheeqa"]),
    (10, ["Nimo", "Nimco", "Nima"]),
    (10, ["Roukia", "Ruqiya", "Roqiya"]),
    (10, ["Kadra", "Khadra", "Qadra"]),
    (10, ["Ifrah", "Ifraax", "Ifra"]),
    (9, ["Hodan", "Hoodan"]),
    (9, ["Ayan", "Ayaan", "Ayane"]),
    (8, ["Idil", "Iidil"]),
    (8, ["Mouna", "Muna", "Muuna"]),
    (8, ["Filsan", "Filsane"]),
    (7, ["Sagal", "Sagaal"]),
    (7, ["Kaltoun", "Kaltuun", "Kalthoum"]),
    (6, ["Souad", "Suad", "Sucaad"]),
    (6, ["Yasmin", "Yasmine", "Yaasmiin"]),
    (5, ["Nasra", "Nasro"]),
    (5, ["Samira", "Samiira"]),
    (5, ["Hamda", "Xamda"]),
    (4, ["Ilham", "Ilhaam"]),
    (4, ["Rahma", "Raxma"]),
]
# Given names twins are often given (the same sex, one family).
TWIN_NAMES = {
    "M": [("Hassan", "Houssein"), ("Abdi", "Abdo"), ("Omar", "Ousman")],
    "F": [("Hawa", "Khadija"), ("Amina", "Halima"), ("Zainab", "Zahra"), ("Hodan", "Hibo")],
}
# region -> communes -> localities
PLACES = {
    "R-CAP": {"C-CAP-1": ["L-CAP-1A", "L-CAP-1B", "L-CAP-1C"], "C-CAP-2": ["L-CAP-2A", "L-CAP-2B"]},
    "R-SUD": {"C-SUD-1": ["L-SUD-1A", "L-SUD-1B"], "C-SUD-2": ["L-SUD-2A"]},
    "R-OUE": {"C-OUE-1": ["L-OUE-1A", "L-OUE-1B"]},
    "R-NOR": {"C-NOR-1": ["L-NOR-1A", "L-NOR-1B"], "C-NOR-2": ["L-NOR-2A"]},
}
LOCALITIES = [
    (region, commune, locality)
    for region, communes in PLACES.items()
    for commune, localities in communes.items()
    for locality in localities
]
TODAY = date(2026, 6, 1)

POSITIVE_KINDS = (
    "transcription",
    "typo",
    "spacing",
    "dropped_grandfather",
    "year_off",
    "day_month_swap",
    "jan1_year_only",
)
NEGATIVE_KINDS = ("sibling", "twin", "namesake_generation", "namesake_year_elsewhere")
WEAK_DATES = ("year_off", "day_month_swap", "jan1_year_only")


@dataclass
class TestSet:
    households: list[dict[str, Any]] = field(default_factory=list)
    # (individual id, individual id) -> kinds
    positives: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    negatives: dict[tuple[str, str], str] = field(default_factory=dict)


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.count = 0
        self.set = TestSet()

    def _id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def _name(self, sex: str) -> list[str]:
        table = MALE if sex == "M" else FEMALE
        return self.rng.choices([s for _, s in table], weights=[w for w, _ in table])[0]

    def _spell(self, spellings: list[str]) -> str:
        # the first spelling is the most used
        return spellings[0] if self.rng.random() < 0.5 else self.rng.choice(spellings)

    def _born(self, age: int) -> tuple[date, bool]:
        born = TODAY - timedelta(days=age * 365 + self.rng.randrange(365))
        roll = self.rng.random()
        if age > 35 and roll < 0.2:
            return date(born.year, 7, 1), True
        if age > 35 and roll < 0.3:
            return date(born.year, 1, 1), False  # year only, entered as 1 January
        return born, False

    def _person(
        self,
        sex: str,
        age: int,
        relationship: str,
        father: list[str],
        grandfather: list[str],
        given: list[str] | None = None,
    ) -> dict[str, Any]:
        given = given or self._name(sex)
        born, estimated = self._born(age)
        return {
            "id": self._id("P"),
            "names": (given, father, grandfather),
            "given_name": self._spell(given),
            "father_name": self._spell(father),
            "grandfather_name": self._spell(grandfather),
            "sex": sex,
            "birth_date": born,
            "estimated": estimated,
            "relationship": relationship,
            "identifiers": [],
        }

    def household(
        self,
        head: dict[str, Any] | None = None,
        place: tuple[str, str, str] | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        if head is None:
            sex = "M" if rng.random() < 0.75 else "F"
            head = self._person(sex, rng.randint(20, 75), "head", self._name("M"), self._name("M"))
        members = [head]
        head_age = TODAY.year - head["birth_date"].year
        married = rng.random() < 0.8
        if married:
            spouse_sex = "F" if head["sex"] == "M" else "M"
            spouse_age = max(17, head_age + (rng.randint(-12, 2) if spouse_sex == "F" else 4))
            members.append(
                self._person(spouse_sex, spouse_age, "spouse", self._name("M"), self._name("M"))
            )
        father_person = head if head["sex"] == "M" else (members[1] if married else None)
        if father_person is not None:
            child_father, child_grandfather = father_person["names"][0], father_person["names"][1]
        else:
            child_father, child_grandfather = self._name("M"), self._name("M")
        for _ in range(rng.choice((0, 1, 2, 2, 3, 3, 4, 5, 6))):
            age = rng.randint(0, max(0, min(22, head_age - 18)))
            members.append(
                self._person(rng.choice("MF"), age, "child", child_father, child_grandfather)
            )
        if head_age < 50 and rng.random() < 0.15:
            members.append(
                self._person(
                    "F", head_age + rng.randint(18, 30), "parent", self._name("M"), self._name("M")
                )
            )
        if rng.random() < 0.6:
            head["identifiers"].append(("phone", f"+2537{rng.randrange(10**7):07d}"))
        if rng.random() < 0.5:
            head["identifiers"].append(("national_id", self._id("NID")))
        region, commune, locality = place or rng.choice(LOCALITIES)
        household = {
            "id": self._id("H"),
            "region": region,
            "commune": commune,
            "locality": locality,
            "members": members,
        }
        self.set.households.append(household)
        return household

    # -- errors ---------------------------------------------------------------------------

    def _typo(self, word: str) -> str:
        rng = self.rng
        if len(word) < 4:
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.choice(("drop", "swap", "double", "replace"))
        if kind == "drop":
            return word[:i] + word[i + 1 :]
        if kind == "swap":
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if kind == "double":
            return word[:i] + word[i] + word[i:]
        return word[:i] + rng.choice("aeiouy") + word[i + 1 :]

    def _respelt(self, original: dict[str, Any], kinds: list[str]) -> dict[str, Any]:
        """`original` as another registrar writes them, with the `kinds` of error made."""
        rng = self.rng
        person = dict(original, id=self._id("P"), identifiers=[], source=original["id"])
        for part, spellings in zip(
            ("given_name", "father_name", "grandfather_name"), original["names"], strict=True
        ):
            others = [s for s in spellings if s != original[part]]
            if "transcription" in kinds and others and rng.random() < 0.7:
                person[part] = rng.choice(others)
            if "spacing" in kinds:
                spaced = [s for s in spellings if " " in s]
                if spaced:
                    person[part] = rng.choice(spellings).replace(" ", "")
                    if rng.random() < 0.5:
                        person[part] = spaced[0]
                elif len(person[part]) > 6:
                    split = rng.randrange(3, len(person[part]) - 2)
                    person[part] = person[part][:split] + " " + person[part][split:].lower()
        if "typo" in kinds:
            part = rng.choice(("given_name", "father_name", "grandfather_name"))
            person[part] = self._typo(person[part])
        if "dropped_grandfather" in kinds:
            person["grandfather_name"] = None
        born: date = original["birth_date"]
        if "year_off" in kinds:
            year = born.year + rng.choice((-1, 1))
            person["birth_date"] = born.replace(
                year=year, day=28 if (born.month, born.day) == (2, 29) else born.day
            )
            person["estimated"] = False
        elif "day_month_swap" in kinds:
            person["birth_date"] = born.replace(month=born.day, day=born.month)
            person["estimated"] = False
        elif "jan1_year_only" in kinds:
            person["birth_date"] = date(born.year, 1, 1)
            person["estimated"] = False
        return person

    def reregister(self, household: dict[str, Any]) -> None:
        rng = self.rng
        adults = [m for m in household["members"] if m["relationship"] in ("head", "spouse")]
        focus = rng.choice(adults)
        kinds = rng.sample(
            ["transcription", "typo", "spacing", "dropped_grandfather"], rng.choice((1, 1, 2))
        )
        born = focus["birth_date"]
        weak = rng.choice((*WEAK_DATES, None, None))
        if weak == "day_month_swap" and (born.day > 12 or born.day == born.month):
            weak = None
        if weak == "jan1_year_only" and (focus["estimated"] or (born.month, born.day) == (1, 1)):
            weak = None
        if weak is not None and focus["estimated"]:
            weak = None
        if weak:
            kinds.append(weak)
        how = rng.random()
        # the whole household again, the person alone with the family's phone, or alone
        # in the same locality; without any of that, only a strong date
        if how < 0.55:
            again = [
                self._respelt(m, kinds if m is focus else ["transcription"])
                for m in household["members"]
                if m is focus or rng.random() < 0.85
            ]
            place = (household["region"], household["commune"], household["locality"])
            if rng.random() < 0.4:
                place = rng.choice(LOCALITIES)
        else:
            again = [self._respelt(focus, kinds)]
            again[0]["relationship"] = "head"
            phones = [i for i in household["members"][0]["identifiers"] if i[0] == "phone"]
            if how < 0.8 and phones:
                again[0]["identifiers"].append(phones[0])
                place = rng.choice(LOCALITIES)
            elif weak or how < 0.9:
                place = (household["region"], household["commune"], household["locality"])
            else:
                place = rng.choice(LOCALITIES)
        duplicate = {
            "id": self._id("H"),
            "region": place[0],
            "commune": place[1],
            "locality": place[2],
            "members": again,
        }
        self.set.households.append(duplicate)
        for person in again:
            self.set.positives[(person["source"], person["id"])] = (
                kinds if person["source"] == focus["id"] else ["transcription"]
            )

    # -- look-alikes ---------------------------------------------------------------------

    def sibling(self, household: dict[str, Any], twin: bool) -> None:
        rng = self.rng
        head = household["members"][0]
        given, father, grandfather = head["names"]
        table = [spellings for _, spellings in (MALE if head["sex"] == "M" else FEMALE)]
        other = self._name(head["sex"])
        if twin and rng.random() < 0.6:
            pair = rng.choice(TWIN_NAMES[head["sex"]])
            other = next(s for s in table if s[0] == pair[1] or s[0] == pair[0])
        while other == given:
            other = self._name(head["sex"])
        age = TODAY.year - head["birth_date"].year
        sibling = self._person(
            head["sex"],
            age if twin else age + rng.choice((-1, 1)) * rng.randint(1, 10),
            "head",
            father,
            grandfather,
            given=other,
        )
        if twin:
            sibling["birth_date"], sibling["estimated"] = head["birth_date"], head["estimated"]
        place = (household["region"], household["commune"], household["locality"])
        if rng.random() < 0.4:
            place = rng.choice(LOCALITIES)
        theirs = self.household(head=sibling, place=place)
        self.set.negatives[(head["id"], theirs["members"][0]["id"])] = "twin" if twin else "sibling"

    def namesake(self, household: dict[str, Any], generation: bool) -> None:
        rng = self.rng
        head = household["members"][0]
        age = TODAY.year - head["birth_date"].year
        if generation:
            age = age - rng.randint(20, 35) if age > 45 else age + rng.randint(20, 35)
        else:
            age = age + rng.choice((-1, 1))
        other = self._person(
            head["sex"],
            max(age, 1),
            "head",
            head["names"][1],
            head["names"][2],
            given=head["names"][0],
        )
        if not generation:
            # a year apart: another day of the year
            other["birth_date"] = head["birth_date"].replace(
                year=head["birth_date"].year + rng.choice((-1, 1)),
                month=rng.randint(1, 12),
                day=rng.randint(1, 28),
            )
            other["estimated"] = False
            elsewhere = [p for p in LOCALITIES if p[0] != household["region"]]
            place = rng.choice(elsewhere)
        else:
            place = rng.choice(LOCALITIES)
        theirs = self.household(head=other, place=place)
        kind = "namesake_generation" if generation else "namesake_year_elsewhere"
        self.set.negatives[(head["id"], theirs["members"][0]["id"])] = kind


def build(households: int, seed: int = 12) -> TestSet:
    """A registry of `households` households with a re-registration for one in eight and a
    look-alike for one in ten."""
    builder = _Builder(seed)
    base = [builder.household() for _ in range(households)]
    rng = builder.rng
    for household in rng.sample(base, households // 8):
        builder.reregister(household)
    for household in rng.sample(base, households // 10):
        roll = rng.random()
        if roll < 0.3:
            builder.sibling(household, twin=False)
        elif roll < 0.55:
            builder.sibling(household, twin=True)
        elif roll < 0.7:
            builder.namesake(household, generation=True)
        else:
            builder.namesake(household, generation=False)
    return builder.set
