"""Money: ISO 4217 decimals, exact amounts, conversions rounded once by a stated rule,
allocations that lose no franc, and the strict JSON shape every service's API uses."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from babel.numbers import get_currency_precision
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from shared.errors import install_error_handlers
from shared.money import (
    CurrencyCode,
    CurrencyMismatch,
    Money,
    MoneyError,
    NonNegativeMoney,
    PositiveMoney,
    TooManyDecimals,
    UnknownCurrency,
    decimal_to_minor,
    minor_to_decimal,
    minor_units,
    validate_currency,
)

NBSP, NNBSP = "\u00a0", "\u202f"  # CLDR's French spaces: before the symbol, between groups


@pytest.mark.parametrize(
    ("currency", "decimals"),
    [("DJF", 0), ("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3), ("IQD", 3), ("SOS", 2)],
)
def test_decimals_are_iso_4217_minor_units(currency: str, decimals: int) -> None:
    assert minor_units(currency) == decimals


def test_decimals_do_not_come_from_cldr_where_it_disagrees_with_iso() -> None:
    # CLDR displays Iraqi dinars and Somali shillings without decimals; ISO 4217 (what
    # banks and partners' files use) has 3 and 2. A fils or a cent must not be lost.
    assert (get_currency_precision("IQD"), minor_units("IQD")) == (0, 3)
    assert (get_currency_precision("SOS"), minor_units("SOS")) == (0, 2)
    assert Money.of("1.234", "IQD").amount_minor == 1234


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("XXX", "no minor unit"),  # "no currency involved"
        ("XTS", "no minor unit"),  # reserved for tests
        ("XAU", "no minor unit"),  # gold
        ("CLF", "fund code"),  # Chile's Unidad de Fomento
        ("USN", "fund code"),  # US dollar next day
        ("ABC", "not a current ISO 4217"),
        ("BGN", "not a current ISO 4217"),  # withdrawn: Bulgaria adopted the euro
        ("djf", "in capitals"),
        ("DJFR", "three-letter"),
    ],
)
def test_codes_no_amount_can_be_in_are_refused(code: str, reason: str) -> None:
    with pytest.raises(UnknownCurrency, match=reason) as refused:
        Money(100, code)
    assert isinstance(refused.value, ValueError)  # what pydantic turns into a 422
    assert refused.value.status == 422  # and what a service raising it answers


def test_of_reads_major_units_exactly() -> None:
    assert Money.of("12.34", "USD") == Money(1234, "USD")
    assert Money.of(Decimal("12.340"), "USD") == Money(1234, "USD")  # no digit lost
    assert Money.of(30000, "DJF") == Money(30000, "DJF")
    assert Money.of("25", "USD") == Money(2500, "USD")
    assert Money.of("-0.05", "USD") == Money(-5, "USD")  # a reversal
    assert Money.of("1.005", "KWD").amount_minor == 1005


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("12.345", "USD"), (Decimal("0.001"), "EUR"), ("30000.5", "DJF"), (Decimal("1.5"), "DJF")],
)
def test_of_refuses_more_decimals_than_the_currency_has(
    amount: str | Decimal, currency: str
) -> None:
    with pytest.raises(TooManyDecimals, match=f"more decimals than {currency}"):
        Money.of(amount, currency)


@pytest.mark.parametrize(
    "amount", [12.34, 30000.0, "30 000", "30,000", "30000,50", "1e3", "", "NaN", True]
)
def test_of_refuses_floats_and_what_is_not_a_plain_number(amount: object) -> None:
    with pytest.raises(MoneyError):
        Money.of(amount, "DJF")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount_minor", [30000.0, True, Decimal(30000), "30000"])
def test_minor_units_must_be_an_integer(amount_minor: object) -> None:
    with pytest.raises(MoneyError, match="whole number of minor units"):
        Money(amount_minor, "DJF")  # type: ignore[arg-type]


def test_an_amount_past_what_a_bigint_column_holds_is_refused() -> None:
    Money(2**63 - 1, "DJF")
    with pytest.raises(MoneyError, match="larger than"):
        Money(2**63, "DJF")


def test_major_and_the_decimal_helpers_are_exact() -> None:
    assert Money(1234, "USD").major == Decimal("12.34")
    assert str(Money(1200, "USD").major) == "12.00"  # the currency's decimals, kept
    assert Money(30000, "DJF").major == Decimal(30000)
    assert minor_to_decimal(-5, "KWD") == Decimal("-0.005")
    assert decimal_to_minor("177.72", "USD") == 17772
    assert str(Money(-1234, "USD")) == "-12.34 USD"


def test_same_currency_arithmetic_and_order() -> None:
    benefit = Money(30000, "DJF")
    assert benefit + Money(5000, "DJF") == Money(35000, "DJF")
    assert benefit - Money(35000, "DJF") == Money(-5000, "DJF")
    assert -benefit == Money(-30000, "DJF")
    assert benefit * 12000 == 12000 * benefit == Money(360_000_000, "DJF")
    assert sum([benefit, benefit, benefit], Money.zero("DJF")) == Money(90000, "DJF")
    assert Money(1, "DJF") < benefit <= Money(30000, "DJF")
    assert max(Money(2, "USD"), Money(10, "USD")) == Money(10, "USD")


def test_amounts_in_different_currencies_are_never_combined() -> None:
    djf, usd = Money(30000, "DJF"), Money(30000, "USD")
    with pytest.raises(CurrencyMismatch, match="different currencies"):
        djf + usd
    with pytest.raises(CurrencyMismatch):
        djf - usd
    with pytest.raises(CurrencyMismatch):
        sorted([djf, usd])
    assert djf != usd  # equal numbers, different amounts
    with pytest.raises(TypeError):
        djf * 1.5  # type: ignore[operator]


def test_split_loses_no_minor_unit_and_gives_the_extra_ones_first() -> None:
    assert [m.amount_minor for m in Money(100, "DJF").split(3)] == [34, 33, 33]
    assert [m.amount_minor for m in Money(-100, "DJF").split(3)] == [-34, -33, -33]
    for amount in (0, 1, 7, 30000, 1_000_001, 360_000_007):
        for parts in (1, 2, 3, 7, 12, 997):
            shares = Money(amount, "DJF").split(parts)
            assert len(shares) == parts
            assert sum(shares, Money.zero("DJF")) == Money(amount, "DJF")
            assert max(shares).amount_minor - min(shares).amount_minor <= 1


def test_allocate_by_weights_gives_the_left_over_to_the_largest_remainder() -> None:
    # 300.3 and 700.7: the franc left over goes to the share that lost 0.7.
    shares = Money(1001, "DJF").allocate([Decimal("0.3"), Decimal("0.7")])
    assert shares == [Money(300, "DJF"), Money(701, "DJF")]
    # A partner's 40/60 split of 10.01 USD, with a line that gets nothing.
    shares = Money(1001, "USD").allocate([40, 0, 60])
    assert shares == [Money(400, "USD"), Money(0, "USD"), Money(601, "USD")]
    for bad in ([], [0, 0], [1, -1], [1.5], [True]):
        with pytest.raises(MoneyError):
            Money(100, "DJF").allocate(bad)  # type: ignore[arg-type]


def test_conversion_rounds_a_half_away_from_zero() -> None:
    # 37.50 USD at 177.72 DJF/USD is 6664.5 DJF exactly.
    assert Money.of("37.50", "USD").convert(Decimal("177.72"), "DJF") == Money(6665, "DJF")
    assert Money.of("-37.50", "USD").convert(Decimal("177.72"), "DJF") == Money(-6665, "DJF")


def test_conversion_rounds_once_to_the_target_currency_minor_unit() -> None:
    # 17772.1 DJF -> 17772; 168.8049 USD -> 168.80; 168.8051 USD -> 168.81.
    assert Money.of(100, "USD").convert(Decimal("177.721"), "DJF") == Money(17772, "DJF")
    assert Money(30000, "DJF").convert(Decimal("0.00562683"), "USD") == Money(16880, "USD")
    assert Money(30001, "DJF").convert(Decimal("0.00562670"), "USD") == Money(16881, "USD")
    # Exact past Decimal's default 28 digits, where a plain multiplication would first
    # round ...000.49999999991 to ...000.500000000 and then round that up.
    near_half = Decimal("0.49999999999999999999999999999")
    huge = Money(9_000_000_000_000_000_001, "JPY").convert(near_half, "JPY")
    assert huge == Money(4_500_000_000_000_000_000, "JPY")


@pytest.mark.parametrize("rate", [177.72, "177.72", Decimal(0), Decimal(-1), Decimal("NaN")])
def test_conversion_refuses_a_rate_that_is_not_an_exact_positive_number(rate: object) -> None:
    with pytest.raises(MoneyError):
        Money(100, "USD").convert(rate, "DJF")  # type: ignore[arg-type]


def test_conversion_refuses_a_target_that_is_not_a_currency() -> None:
    with pytest.raises(UnknownCurrency):
        Money(100, "USD").convert(Decimal(1), "XXX")


def test_format_in_french_and_english() -> None:
    pnsf = Money(30000, "DJF")
    assert pnsf.format() == f"30{NNBSP}000{NBSP}Fdj"  # fr_DJ: Djibouti's own symbol
    assert pnsf.format("fr") == f"30{NNBSP}000{NBSP}DJF"
    assert pnsf.format("en") == "DJF30,000"
    assert Money(123450, "USD").format("fr_DJ") == f"1{NNBSP}234,50{NBSP}$US"
    assert Money(123450, "USD").format("en") == "$1,234.50"
    # ISO's decimals, not CLDR's: the fils are shown, not rounded away.
    assert Money(1234, "IQD").format("en") == "IQD1.234"
    assert Money(-3_000_000, "DJF").format("fr-DJ") == f"-3{NNBSP}000{NNBSP}000{NBSP}Fdj"
    with pytest.raises(MoneyError, match="locale"):
        pnsf.format("xx_YY")


class Benefit(BaseModel):
    amount: NonNegativeMoney


class Payment(BaseModel):
    amount: PositiveMoney


class Balance(BaseModel):
    amount: Money
    currency: CurrencyCode = "DJF"


def test_api_accepts_an_integer_of_minor_units_with_its_currency() -> None:
    benefit = Benefit.model_validate_json('{"amount": {"amount_minor": 30000, "currency": "DJF"}}')
    assert benefit.amount == Money(30000, "DJF")
    assert benefit.model_dump_json() == '{"amount":{"amount_minor":30000,"currency":"DJF"}}'
    assert Benefit(amount=Money(0, "DJF")).amount == Money(0, "DJF")
    assert Balance.model_validate_json(
        '{"amount": {"amount_minor": -250, "currency": "USD"}}'
    ).amount == Money(-250, "USD")


@pytest.mark.parametrize(
    ("amount", "error_path", "error_type"),
    [
        ({"amount_minor": 30000.0, "currency": "DJF"}, ("amount_minor",), "int_type"),
        ({"amount_minor": "30000", "currency": "DJF"}, ("amount_minor",), "int_type"),
        ({"amount_minor": True, "currency": "DJF"}, ("amount_minor",), "int_type"),
        ({"amount_minor": -1, "currency": "DJF"}, ("amount_minor",), "greater_than_equal"),
        ({"amount_minor": 2**63, "currency": "DJF"}, ("amount_minor",), "value_error"),
        ({"amount_minor": 30000, "currency": "ABC"}, ("currency",), "value_error"),
        ({"amount_minor": 30000, "currency": "djf"}, ("currency",), "value_error"),
        ({"amount_minor": 30000}, ("currency",), "missing"),
        ({"amount_minor": 3, "currency": "DJF", "decimals": 0}, ("decimals",), "extra_forbidden"),
        (30000, (), "dict_type"),
    ],
)
def test_api_refuses_anything_else_and_names_the_field(
    amount: object, error_path: tuple[str, ...], error_type: str
) -> None:
    # As JSON text, and as the parsed JSON FastAPI validates a request body from.
    for validate in (
        lambda: Benefit.model_validate_json(json.dumps({"amount": amount})),
        lambda: Benefit.model_validate({"amount": amount}),
    ):
        with pytest.raises(ValidationError) as refused:
            validate()
        [error] = refused.value.errors()
        assert (error["loc"], error["type"]) == (("amount", *error_path), error_type)


def test_api_says_why_a_currency_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"XTS \(.*\) has no minor unit"):
        Benefit.model_validate_json('{"amount": {"amount_minor": 1, "currency": "XTS"}}')
    with pytest.raises(ValidationError, match="not a current ISO 4217"):
        Balance.model_validate_json(
            '{"amount": {"amount_minor": 1, "currency": "DJF"}, "currency": "ABC"}'
        )


def test_bounds_hold_for_amounts_built_in_python_too() -> None:
    with pytest.raises(ValidationError, match="zero or more"):
        Benefit(amount=Money(-1, "DJF"))
    with pytest.raises(ValidationError, match="above zero"):
        Payment(amount=Money(0, "DJF"))
    with pytest.raises(ValidationError, match="greater_than"):
        Payment.model_validate_json('{"amount": {"amount_minor": 0, "currency": "DJF"}}')


def test_the_json_schema_tells_clients_the_shape() -> None:
    schema = Benefit.model_json_schema()
    money = schema["$defs"]["NonNegativeMoney"]
    assert money["required"] == ["amount_minor", "currency"]
    assert money["additionalProperties"] is False
    assert money["properties"]["amount_minor"]["type"] == "integer"
    assert money["properties"]["amount_minor"]["minimum"] == 0
    # The codes an amount may be in, exactly: a client learns them from the document.
    currencies = money["properties"]["currency"]["enum"]
    assert {"DJF", "USD", "EUR"} <= set(currencies)
    assert all(validate_currency(code) == code for code in currencies)
    assert "XXX" not in currencies, "ISO's 'no currency' is no currency to pay in"


async def test_an_endpoint_answers_a_bad_amount_with_a_422_naming_the_field() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/payments")
    async def pay(payment: Payment) -> Payment:
        return payment

    @app.get("/entered")
    async def entered(amount: str) -> Balance:
        return Balance(amount=Money.of(amount, "USD"))

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://funding.test") as api:
        line = {"amount": {"amount_minor": 30000, "currency": "DJF"}}
        paid = await api.post("/payments", json=line)
        assert (paid.status_code, paid.json()) == (200, line)

        float_amount = await api.post(
            "/payments",
            content=b'{"amount": {"amount_minor": 30000.0, "currency": "DJF"}}',
            headers={"content-type": "application/json"},
        )
        assert float_amount.status_code == 422
        assert float_amount.headers["content-type"] == "application/problem+json"
        [error] = float_amount.json()["errors"]
        assert error["path"] == "body.amount.amount_minor"

        # A MoneyError raised past validation is a problem of its own, not a 500.
        too_precise = await api.get("/entered", params={"amount": "12.345"})
        assert too_precise.status_code == 422
        assert too_precise.json()["type"].endswith("/too-many-decimals")
        assert "more decimals than USD" in too_precise.json()["detail"]
