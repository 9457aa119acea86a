"""Names as the registry compares them.

People here write the same name many ways: French (Houssein, Oumar, Djama), English
(Hussein, Omar, Jama), Somali orthography (Xuseen, Cumar, Jaamac), with or without accents,
doubled letters and long vowels. Three forms:

- `fold`: lower case, no accents, letters only, for display order and exact comparison;
- `canonical`: spelling variants brought together, vowels kept (Hassan and Hussein stay
  apart: they are different names), what similarity scores compare;
- `phonetic_key`: the consonant skeleton, deliberately loose (Hassan and Hussein meet here),
  what the database indexes to find candidates fast; scoring then tells them apart.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

VOWELS = frozenset("aeiou")
# Applied in order, on a folded word.
_SPELLING_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"kh", "h"),  # Khadija / Hadija / Xadiija
        (r"x", "h"),  # Somali x is the Arabic ḥ: Maxamed / Mahamed
        (r"tch", "ch"),
        (r"ch", "sh"),  # French ch / English sh: Cheikh / Sheikh, Aicha / Aisha
        # French c before ou is k (Yacoub / Yaqub / Yakub): Somali spelling has no ou.
        (r"c(?=ou)", "k"),
        (r"c(?!h)", ""),  # Somali c is the Arabic ʿayn: Cali / Ali, Cabdi / Abdi
        (r"q", "k"),  # Qasim / Kassim
        (r"ph", "f"),
        (r"th", "t"),
        (r"dh", "d"),  # Somali dh: Dhuux / Duh
        (r"gh", "g"),
        (r"dj", "j"),  # Djama / Jama
        (r"ou(?=[aeiy])", "w"),  # French ou before a vowel is w: Ouarsame / Warsame
        (r"ou", "u"),  # Houssein / Hussein, Oumar / Umar
        (r"oo", "u"),  # Somali long o: Cumar / Umar / Oomar
        (r"o", "u"),  # Arabic has no o: Mohamed / Muhammad, Osman / Usman, Hawo / Hawu
        (r"(?<=.)y", "i"),  # Ayesha / Aisha, but Yusuf keeps its y
        (r"ei(?!$)", "e"),  # Houssein / Husen (a final ei is two letters: Abei)
        (r"(.)\1+", r"\1"),  # doubled letters and long vowels: Mohammed, Faadumo, Ismaciil
        # The diphthong ay inside a word, written ai, ay, ei or e: Zainab / Zeinab / Zenab
        (r"(?<=.)ai(?=[^aeiou])", "e"),
        (r"(?<=[aeiou])h$", ""),  # Abdallah / Abdalla, Fatimah / Fatima
    )
)
_NOT_LETTER = re.compile(r"[^a-z]+")


# Names repeat a great deal (a few thousand spellings for a whole country): caching the forms
# makes a bulk import of half a million people spend microseconds, not seconds, here.
@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case, accents removed, every run of non-letters made one space."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_LETTER.sub(" ", ascii_only).strip()


@lru_cache(maxsize=65536)
def canonical(name: str | None) -> str:
    """One name part with its spelling variants brought together, vowels kept
    (`Abdi Rahman` and `Abdirahman` are one part)."""
    if not name:
        return ""
    word = fold(name).replace(" ", "")
    for pattern, replacement in _SPELLING_RULES:
        word = pattern.sub(replacement, word)
    return word


@lru_cache(maxsize=65536)
def phonetic_key(name: str | None) -> str:
    """The consonant skeleton of `canonical(name)`, d and t made one. Empty for no name."""
    word = canonical(name)
    if not word:
        return ""
    skeleton = "".join(ch for ch in word if ch not in VOWELS).replace("d", "t")
    skeleton = re.sub(r"(.)\1+", r"\1", skeleton)
    # A name made only of vowels (Ali -> l is fine, but "Aa"...) keeps its first letter.
    return skeleton or word[0]


def full_name_folded(given: str, father: str | None, grandfather: str | None) -> str:
    return " ".join(fold(part) for part in (given, father, grandfather) if part)
