"""Money: an integer count of a currency's minor units and its ISO 4217 code. No floats.

Every amount the platform stores or sends — a programme's benefit, an agreement's
commitment, a transaction, a payment line, a plan's cost — is a `Money`. An integer of
minor units is exact, sums exactly in SQL (`bigint`), and means the same thing in every
language a partner's system is written in; a float cannot even hold 0.10 USD.

Where the currency table comes from. The number of minor units is ISO 4217's own
"minor unit" column, read from the table the ISO 4217 maintenance agency publishes (list
one, as XML), which the `iso4217` package ships unchanged and re-releases with each newer
table (its version ends with the table's publication date). It marks what cannot be
paid out: codes without minor units ("N.A.": XXX "no currency", XTS "testing", gold and
other metals, SDR, bond-market units) and funds codes (`IsFund`: CLF, USN, BOV...). Both
are refused here, as are codes that are not in the current table (withdrawn ones too:
BGN since Bulgaria adopted the euro).

Babel (CLDR) is used for formatting only, never for the number of decimals: CLDR's
"digits" say how amounts are usually *displayed or paid in cash*, and differ from ISO 4217
for currencies this platform meets. CLDR gives 0 where ISO gives 2 for SOS (Somalia),
YER (Yemen), AFN, ALL, COP, HUF, IDR, IRR, KPW, LAK, LBP, MGA, MMK, SYP, and 0 where ISO
gives 3 for IQD; it answers 2 for any code it does not know ("ABC") and for XXX/XTS, so it
cannot refuse anything. `pycountry` has the ISO 4217 codes and names but no minor units;
`py-moneyed` keeps its own hand-written table, holds a Decimal rather than minor units
and accepts 12.345 USD. Amounts are formatted with ISO's decimals in CLDR's pattern
for the locale, so 1.234 IQD shows its fils instead of being rounded away.

A conversion rounds once, half a minor unit away from zero (see `Money.convert` for why).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from math import floor
from types import MappingProxyType
from typing import Annotated, Any

import iso4217
from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern
from pydantic import (
    AfterValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from shared.errors import UnprocessableEntity

# Amounts are stored as PostgreSQL `bigint`: refusing larger ones here gives the client a
# 422 that names the field instead of a database error.
MAX_MINOR = 2**63 - 1


class MoneyError(UnprocessableEntity, ValueError):
    """An amount or currency that cannot be accepted. A ValueError, so pydantic turns it
    into a 422 naming the field; a problem, so one raised in a service is a 422 too."""

    type, title = "invalid-amount", "Invalid amount"


class UnknownCurrency(MoneyError):
    type, title = "unknown-currency", "Unknown currency"


class TooManyDecimals(MoneyError):
    type, title = "too-many-decimals", "Too many decimals"


class CurrencyMismatch(MoneyError):
    type, title = "currency-mismatch", "Different currencies"


def _load_table() -> tuple[dict[str, int], dict[str, str]]:
    """`{code: minor units}` for the currencies one can pay in, and why the others listed
    by ISO are refused."""
    payable: dict[str, int] = {}
    refused: dict[str, str] = {}
    for entry in iso4217.raw_xml.iterfind("CcyTbl/CcyNtry"):
        code = (entry.findtext("Ccy") or "").strip()
        if not code:  # "No universal currency" (Antarctica...)
            continue
        name_node = entry.find("CcyNm")
        name = (name_node.text or "").strip() if name_node is not None else code
        units = (entry.findtext("CcyMnrUnts") or "").strip()
        if name_node is not None and name_node.get("IsFund") == "true":
            refused[code] = f"{code} ({name}) is an ISO 4217 fund code, not a currency"
        elif not units.isdigit():
            refused[code] = f"{code} ({name}) has no minor unit in ISO 4217: it is not a currency"
        else:
            payable[code] = int(units)
    for code in refused:
        payable.pop(code, None)
    return payable, refused


_PAYABLE, _REFUSED = _load_table()
#: The currencies amounts may be in, and the number of minor units (decimals) of each.
CURRENCIES: Mapping[str, int] = MappingProxyType(_PAYABLE)

_AMOUNT_HELP = (
    "Whole minor units of the currency (its ISO 4217 decimals): 30000 for 30 000 DJF, "
    "1234 for 12.34 USD."
)
_CURRENCY_HELP = "ISO 4217 currency code, such as DJF or USD."
# What the document says of a currency: exactly the codes `validate_currency` takes.
_CURRENCY_SCHEMA = {"type": "string", "enum": sorted(_PAYABLE), "description": _CURRENCY_HELP}
_CODE = re.compile(r"[A-Z]{3}")
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def validate_currency(code: object) -> str:
    """The code itself when amounts may be in it; otherwise UnknownCurrency. Lower case is
    refused rather than fixed: a code is an identifier, and "djf" is a typing slip to
    correct at the source."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise UnknownCurrency(
            f"The currency must be a three-letter ISO 4217 code in capitals, such as DJF "
            f"or USD; got {code!r}."
        )
    if code in _REFUSED:
        raise UnknownCurrency(f"{_REFUSED[code]} an amount can be in.")
    if code not in _PAYABLE:
        raise UnknownCurrency(f"{code} is not a current ISO 4217 currency code.")
    return code


def minor_units(currency: str) -> int:
    """How many decimals the currency has in ISO 4217: DJF 0, USD 2, KWD 3."""
    return _PAYABLE[validate_currency(currency)]


def decimal_to_minor(value: Decimal | str | int, currency: str) -> int:
    """An amount in major units (12.34 USD) as minor units (1234). Never rounds: a value
    with more decimals than the currency has is refused. A string is plain digits with an
    optional point, as in "30000" or "12.34": no grouping, no comma, no exponent."""
    units = minor_units(currency)
    number = _as_decimal(value, "amount")
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # _as_decimal refused NaN and infinities
    coefficient = int("".join(map(str, digits)))
    shift = exponent + units
    if shift >= 0:
        minor = coefficient * 10**shift
    else:
        minor, rest = divmod(coefficient, 10**-shift)
        if rest:
            raise TooManyDecimals(
                f"{value} {currency} has more decimals than {currency} has ({units}); "
                f"round it before entering it."
            )
    return _bounded(-minor if sign else minor)


def minor_to_decimal(amount_minor: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal in major units with the currency's decimals:
    1234 USD cents -> Decimal("12.34"), 30000 DJF -> Decimal("30000")."""
    units = minor_units(currency)
    _check_integer(amount_minor, "amount_minor")
    digits = tuple(int(d) for d in str(abs(amount_minor)))
    return Decimal((int(amount_minor < 0), digits, -units))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount: `amount_minor` whole minor units (centimes, cents; a DJF has none, so
    30 000 DJF is 30000) of `currency`. Immutable and hashable; arithmetic and ordering
    only between amounts of the same currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        _check_integer(self.amount_minor, "amount_minor")
        _bounded(self.amount_minor)
        validate_currency(self.currency)

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Money:
        """From an amount in major units: `Money.of("12.34", "USD")`, `Money.of(30000,
        "DJF")`. Refuses floats and more decimals than the currency has."""
        return cls(decimal_to_minor(amount, currency), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """The start of a sum: `sum(lines, Money.zero("DJF"))`."""
        return cls(0, currency)

    @property
    def major(self) -> Decimal:
        """The amount in major units, exact: Decimal("12.34") for 1234 USD cents."""
        return minor_to_decimal(self.amount_minor, self.currency)

    def __str__(self) -> str:
        """Locale-free, for logs and files: "30000 DJF", "12.34 USD"."""
        return f"{self.major} {self.currency}"

    def _same_currency(self, other: Money, doing: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"{self} and {other} are in different currencies and cannot be {doing}: "
                f"convert one first, at the rate of its value date."
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "added")
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtracted")
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __mul__(self, times: object) -> Money:
        """By a whole number only (30 000 DJF times 12 000 households): exact. A fractional
        factor needs a rounding rule: use `allocate` or `convert`."""
        if type(times) is not int:
            return NotImplemented
        return Money(self.amount_minor * times, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compared")
        return self.amount_minor < other.amount_minor

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compared")
        return self.amount_minor <= other.amount_minor

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compared")
        return self.amount_minor > other.amount_minor

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compared")
        return self.amount_minor >= other.amount_minor

    def allocate(self, weights: Sequence[int | Decimal]) -> list[Money]:
        """Shares in proportion to `weights` (whole numbers or Decimals, ≥ 0) that add up
        to exactly this amount. Each share is its exact proportion rounded down; the minor
        units left over go one each to the shares that lost the most (largest remainder),
        the earliest first when they lost the same. A zero weight gets nothing."""
        if not weights:
            raise MoneyError("An amount must be allocated to at least one share.")
        fractions = []
        for weight in weights:
            if type(weight) is not int and not isinstance(weight, Decimal):
                raise MoneyError(
                    f"Allocation weights are whole numbers or Decimals; got {weight!r}."
                )
            if isinstance(weight, Decimal) and not weight.is_finite():
                raise MoneyError(f"Allocation weights must be finite; got {weight}.")
            if weight < 0:
                raise MoneyError(f"Allocation weights cannot be negative; got {weight}.")
            fractions.append(Fraction(weight))
        total_weight = sum(fractions, Fraction(0))
        if total_weight == 0:
            raise MoneyError("Allocation weights add up to zero: nothing to share by.")
        magnitude = abs(self.amount_minor)
        exact = [magnitude * weight / total_weight for weight in fractions]
        shares = [floor(share) for share in exact]
        left_over = magnitude - sum(shares)
        by_loss = sorted(range(len(exact)), key=lambda i: (shares[i] - exact[i], i))
        for index in by_loss[:left_over]:
            shares[index] += 1
        sign = -1 if self.amount_minor < 0 else 1
        return [Money(sign * share, self.currency) for share in shares]

    def split(self, parts: int) -> list[Money]:
        """`parts` equal shares that add up exactly: 100 DJF in 3 is 34, 33, 33."""
        if type(parts) is not int or parts < 1:
            raise MoneyError(f"An amount is split into one part or more; got {parts!r}.")
        return self.allocate([1] * parts)

    def convert(self, rate: Decimal | int, to: str) -> Money:
        """This amount in currency `to`, at `rate` units of `to` per unit of this currency
        (major units on both sides, as rates are quoted: 177.721 DJF per USD), exact, then
        rounded once to `to`'s minor unit.

        Half a minor unit rounds away from zero, as a spreadsheet's ROUND and the EU's
        euro-conversion rule (Regulation 1103/97) do: the figures a partner's statement or
        a finance officer's check arrive at. Banker's rounding only pays off when many
        rounded amounts are summed; sum in the original currency and convert the total
        instead."""
        return self.convert_through(rate, 1, to)

    def convert_through(self, value: Decimal | int, target_value: Decimal | int, to: str) -> Money:
        """This amount in `to`, both currencies valued in a third (a rate table in DJF:
        `value` DJF per unit of this currency, `target_value` DJF per unit of `to`): exact,
        rounded once, half a minor unit away from zero (see `convert`). 30,000 DJF in USD at 177.721
        DJF per USD is `convert_through(1, Decimal("177.721"), "USD")`: 168.80 USD."""
        source = Fraction(_as_decimal(value, "exchange rate", allow_str=False))
        target = Fraction(_as_decimal(target_value, "exchange rate", allow_str=False))
        if source <= 0 or target <= 0:
            raise MoneyError("Exchange rates must be positive.")
        exact = (
            Fraction(self.amount_minor)
            * source
            / target
            * Fraction(10) ** (minor_units(to) - minor_units(self.currency))
        )
        magnitude = floor(abs(exact) + Fraction(1, 2))
        return Money(_bounded(magnitude if exact >= 0 else -magnitude), to)

    def format(self, locale: str = "fr_DJ") -> str:
        """For people to read, in the locale's way with ISO's decimals: fr_DJ
        "30 000 Fdj", fr "30 000 DJF", en "DJF30,000", en "$1,234.50" (CLDR's symbols and
        patterns; the French spaces are no-break: U+202F between digit groups, U+00A0
        before the symbol). French, the administration's, with Djibouti's symbol unless
        asked otherwise."""
        parsed, pattern = _currency_pattern(locale, minor_units(self.currency))
        text: str = pattern.apply(self.major, parsed, currency=self.currency, currency_digits=False)
        return text

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return _money_schema("Money", ge=None, gt=None)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return _describe(schema, handler, "An amount of money.")


@dataclass(frozen=True, slots=True)
class _AmountBounds:
    """Metadata for `Annotated[Money, ...]`: the bound goes into the JSON schema, and the
    error names `amount_minor`."""

    ref: str
    ge: int | None = None
    gt: int | None = None

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return _money_schema(self.ref, ge=self.ge, gt=self.gt)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return _describe(schema, handler, f"An amount of money {_bound_text(self.ge)}.")


#: An amount that may not be below zero (a commitment, a benefit, a plan's cost).
NonNegativeMoney = Annotated[Money, _AmountBounds("NonNegativeMoney", ge=0)]
#: An amount that must be above zero (a payment line, a disbursement).
PositiveMoney = Annotated[Money, _AmountBounds("PositiveMoney", gt=0)]
#: A currency field on its own (an agreement's currency, the two sides of a rate).
CurrencyCode = Annotated[
    str,
    AfterValidator(validate_currency),
    WithJsonSchema(_CURRENCY_SCHEMA),
]


def _money_schema(ref: str, *, ge: int | None, gt: int | None) -> CoreSchema:
    """JSON `{"amount_minor": 30000, "currency": "DJF"}`, strictly: the amount a JSON
    integer (not 30000.0, "30000" or true), no other keys, the currency in the table. In
    Python a `Money` is accepted as it is (bounds still apply). Dumps give the same object
    shape in Python as in JSON (pydantic dumps dataclasses as dicts)."""
    fields = _fields_schema(ge=ge, gt=gt)
    from_fields = core_schema.no_info_after_validator_function(_from_fields, fields)

    def from_python(value: Any, validate_fields: ValidatorFunctionWrapHandler) -> Money:
        # One path, so a bad dict's errors name its fields and nothing else.
        if not isinstance(value, Money):
            money: Money = validate_fields(value)
            return money
        if (ge is not None and value.amount_minor < ge) or (
            gt is not None and value.amount_minor <= gt
        ):
            raise MoneyError(f"The amount must be {_bound_text(ge)}; got {value}.")
        return value

    return core_schema.json_or_python_schema(
        json_schema=from_fields,
        python_schema=core_schema.no_info_wrap_validator_function(from_python, from_fields),
        serialization=core_schema.plain_serializer_function_ser_schema(
            _to_fields, when_used="json", return_schema=fields
        ),
        ref=ref,
    )


def _fields_schema(*, ge: int | None, gt: int | None) -> CoreSchema:
    # The bigint bound is checked, not published: OpenAPI tools turn 2**63 into a float.
    amount = core_schema.no_info_after_validator_function(
        _bounded, core_schema.int_schema(strict=True, ge=ge, gt=gt)
    )
    currency = core_schema.no_info_after_validator_function(
        validate_currency, core_schema.str_schema(strict=True)
    )
    return core_schema.typed_dict_schema(
        {
            "amount_minor": core_schema.typed_dict_field(amount),
            "currency": core_schema.typed_dict_field(currency),
        },
        extra_behavior="forbid",
        strict=True,
    )


def _describe(schema: CoreSchema, handler: GetJsonSchemaHandler, text: str) -> JsonSchemaValue:
    json_schema = handler(schema)
    target = handler.resolve_ref_schema(json_schema)
    target["description"] = text
    properties = target["properties"]
    properties["amount_minor"]["description"] = _AMOUNT_HELP
    properties["currency"] = dict(_CURRENCY_SCHEMA)
    return json_schema


def _from_fields(fields: dict[str, Any]) -> Money:
    return Money(fields["amount_minor"], fields["currency"])


def _to_fields(money: Money) -> dict[str, Any]:
    return {"amount_minor": money.amount_minor, "currency": money.currency}


def _bound_text(ge: int | None) -> str:
    return "of zero or more" if ge == 0 else "above zero"


def _check_integer(value: object, what: str) -> None:
    # bool is an int to Python and never an amount.
    if type(value) is not int:
        raise MoneyError(
            f"{what} must be a whole number of minor units (centimes, cents); "
            f"got {type(value).__name__} {value!r}."
        )


def _bounded(amount_minor: int) -> int:
    if abs(amount_minor) > MAX_MINOR:
        raise MoneyError(f"The amount {amount_minor} is larger than the ledger can hold.")
    return amount_minor


def _as_decimal(value: object, what: str, *, allow_str: bool = True) -> Decimal:
    if isinstance(value, float):
        raise MoneyError(
            f"The {what} {value!r} is a binary float, which cannot hold most decimal "
            f"amounts exactly; give it as a Decimal or a string such as '12.34'."
        )
    if isinstance(value, str) and allow_str:
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise MoneyError(
                f"The {what} {value!r} is not a plain number: write digits with an "
                f"optional decimal point, as in 30000 or 12.34 (no spaces or commas)."
            )
        return Decimal(value)
    if type(value) is int:
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"The {what} must be a finite number; got {value}.")
        return value
    raise MoneyError(f"The {what} must be a Decimal or a whole number; got {value!r}.")


@lru_cache(maxsize=64)
def _currency_pattern(locale: str, decimals: int) -> tuple[Locale, NumberPattern]:
    """The locale's currency pattern with ISO's decimals instead of CLDR's."""
    try:
        parsed = Locale.parse(locale.replace("-", "_"))  # "fr-DJ" as Accept-Language has it
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise MoneyError(f"Unknown locale {locale!r} for formatting amounts.") from exc
    pattern = copy.copy(parsed.currency_formats["standard"])
    pattern.frac_prec = (decimals, decimals)
    return parsed, pattern
