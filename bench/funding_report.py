"""The funding report and the funding statistics over a year of payrolls: 4 quarterly cycles
of 100,000 lines each (400,000 payment lines), with the transactions those payrolls record
(a disbursement when each is sent, an expenditure per reconciliation) and a ledger of
partners, projects, agreements and receipts around them.

Target (issue 13): `GET /reports/funding?group_by=partner,project,year` in 1 s or less.

Seeded straight into the funding database with COPY (no API: the payroll build has its own
benchmark); then, through the real stack (gateway and funding processes, embedded
PostgreSQL), one client at a time, after a few warm-up requests:

- the report by partner, project and year (JSON), and as CSV;
- `/stats?measure=payment_amount&group_by=region,period` (every line read);
- `/stats?measure=disbursed&group_by=partner,year`;

each beside its anchor measured in the same run: the same aggregate written by hand as one
bare SQL statement, run through asyncpg on a warm connection (no HTTP, no token, no JSON).
Printed: p50, best and worst of each, and p50 / anchor p50; and the floor of any request
through the gateway (`GET /me`: routing, token check, no database), which is most of
what a small aggregate costs beyond its SQL.

    python -m bench.funding_report
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.common import Stopwatch, percentiles
from bench.runner import scenario_main
from bench.scenario import Context, Row, Target
from bench.stack import auth_headers, gateway_url, plain_url
from inds.stack import Stack
from services.funding.models import Agreement, Organisation, PaymentCycle, Project
from shared.db import driver_connection
from shared.settings import database_url_for

USES_REGISTRY = False
FUNDING = "/api/v1/funding"
USD_RATE = Decimal("177.72")
REGIONS = ("DJ-DJ", "DJ-AS", "DJ-AR", "DJ-DI", "DJ-OB", "DJ-TA")
BENEFIT = 30_000  # DJF a household a quarter
LINE_COLUMNS = (
    "cycle_id",
    "line_no",
    "reference",
    "programme_code",
    "period",
    "household_id",
    "registry_number",
    "enrollment_id",
    "payee_id",
    "payee_given_name",
    "payee_father_name",
    "payee_grandfather_name",
    "payee_phone",
    "region_code",
    "amount_minor",
    "currency",
    "status",
    "settled_on",
)

# The anchors: the report's and the statistics' aggregates, by hand.
REPORT_ANCHOR = """
SELECT partner, project, year,
       sum(committed_djf), sum(committed_usd), sum(received_djf), sum(received_usd),
       sum(disbursed_djf), sum(disbursed_usd), sum(paid_djf), sum(paid_usd)
FROM (
  SELECT funder_id AS partner, project_id AS project,
         extract(year FROM signed_date)::int AS year,
         committed_djf_minor AS committed_djf, committed_usd_minor AS committed_usd,
         0 AS received_djf, 0 AS received_usd, 0 AS disbursed_djf, 0 AS disbursed_usd,
         0 AS paid_djf, 0 AS paid_usd
  FROM agreement WHERE status <> 'cancelled'
  UNION ALL
  SELECT a.funder_id, t.project_id, extract(year FROM t.transaction_date)::int, 0, 0,
         CASE WHEN t.type = 1 THEN t.amount_djf_minor ELSE 0 END,
         CASE WHEN t.type = 1 THEN t.amount_usd_minor ELSE 0 END,
         CASE WHEN t.type = 3 THEN t.amount_djf_minor ELSE 0 END,
         CASE WHEN t.type = 3 THEN t.amount_usd_minor ELSE 0 END,
         CASE WHEN t.type = 4 THEN t.amount_djf_minor ELSE 0 END,
         CASE WHEN t.type = 4 THEN t.amount_usd_minor ELSE 0 END
  FROM transaction t LEFT JOIN agreement a ON a.id = t.agreement_id
  WHERE t.type IN (1, 3, 4)
) AS fact
GROUP BY GROUPING SETS ((partner, project, year), ())
"""
PAYMENT_ANCHOR = """
SELECT line.region_code, line.period, sum(line.amount_minor)
FROM payment_line AS line JOIN payment_cycle AS cycle ON cycle.id = line.cycle_id
WHERE cycle.build_status = 'built'
GROUP BY GROUPING SETS ((line.region_code, line.period), ())
"""
DISBURSED_ANCHOR = """
SELECT a.funder_id, extract(year FROM t.transaction_date)::int, sum(t.amount_djf_minor)
FROM transaction t LEFT JOIN agreement a ON a.id = t.agreement_id
WHERE t.type = 3
GROUP BY GROUPING SETS ((a.funder_id, extract(year FROM t.transaction_date)::int), ())
"""


@dataclass
class Seeded:
    lines: int
    transactions: int
    agreements: int
    seconds: float


async def seed(
    server_url: str, lines_per_cycle: int, cycles: int, extra_transactions: int, seed_value: int
) -> Seeded:
    """Partners, projects and agreements (through the models: their defaults apply); the
    year's payrolls with their lines and the transactions they record (COPY); then VACUUM
    ANALYZE, as a database in use would be."""
    rng = random.Random(seed_value)
    watch = Stopwatch()
    engine = create_async_engine(database_url_for(server_url, "funding"))
    try:
        async with engine.connect() as bound:
            session = AsyncSession(bind=bound)
            async with session.begin():
                organisations = {
                    key: Organisation(
                        id=uuid.uuid4(),
                        iati_identifier=identifier,
                        name_fr=name,
                        name_en=name,
                        type=kind,
                        partner_id=key,
                    )
                    for key, identifier, name, kind in (
                        ("wb", "44000", "World Bank", "multilateral"),
                        ("wfp", "XM-DAC-41140", "World Food Programme", "un_agency"),
                        ("unicef", "XM-DAC-41122", "UNICEF", "un_agency"),
                        ("eu", "XI-IATI-EC_INTPA", "European Union", "bilateral"),
                        ("provider", "DJ-COMPANY-DMONEY", "D-Money", "payment_provider"),
                    )
                }
                session.add_all(organisations.values())
                await session.flush()
                projects = {
                    key: Project(
                        id=uuid.uuid4(),
                        iati_identifier=identifier,
                        reporting_org_id=organisations[key].id,
                        title_fr=identifier,
                        title_en=identifier,
                        status=2,
                        sector_code="16010",
                        recipient_country="DJ",
                        programme_codes=["pnsf"],
                    )
                    for key, identifier in (
                        ("wb", "44000-P166220"),
                        ("wfp", "XM-DAC-41140-DJ01"),
                        ("unicef", "XM-DAC-41122-DJ-SP"),
                    )
                }
                session.add_all(projects.values())
                await session.flush()
                payroll_cost = lines_per_cycle * BENEFIT * cycles
                agreements = [
                    Agreement(
                        id=uuid.uuid4(),
                        reference=f"AGR-{number}",
                        project_id=projects[project].id,
                        funder_id=organisations[funder].id,
                        currency="DJF",
                        committed_minor=payroll_cost,
                        signed_date=signed,
                        received_minor=payroll_cost,
                        committed_djf_minor=payroll_cost,
                        committed_usd_minor=_usd(payroll_cost),
                        rate_to_djf=Decimal(1),
                        usd_rate_to_djf=USD_RATE,
                        usd_rate_date=date(2025, 1, 1),
                    )
                    for number, (funder, project, signed) in enumerate(
                        (
                            ("wb", "wb", date(2025, 6, 1)),
                            ("wb", "wb", date(2026, 1, 15)),
                            ("eu", "wb", date(2026, 2, 1)),
                            ("wfp", "wfp", date(2026, 1, 10)),
                            ("unicef", "unicef", date(2026, 3, 1)),
                        ),
                        start=1,
                    )
                ]
                session.add_all(agreements)
                await session.flush()
                charged = agreements[1]  # the payrolls: the World Bank's 2026 agreement
                transactions: list[tuple[object, ...]] = []
                for number, agreement in enumerate(agreements):
                    day = date(2026, 1, 20) + timedelta(days=number)
                    transactions.append(_transaction(1, payroll_cost, day, agreement, None))
                # Transfers to implementers and their expenditure, through the year.
                for _ in range(extra_transactions):
                    day = date(2025, 6, 1) + timedelta(days=rng.randrange(570))
                    amount = rng.randrange(100_000, 5_000_000)
                    transactions.append(
                        _transaction(rng.choice((3, 4)), amount, day, rng.choice(agreements), None)
                    )
                households = [uuid.uuid4() for _ in range(lines_per_cycle)]
                regions = [rng.choice(REGIONS) for _ in range(lines_per_cycle)]
                raw = await driver_connection(session)
                lines = paid_total = 0
                for quarter in range(1, cycles + 1):
                    period = f"2026Q{quarter}"
                    cycle = PaymentCycle(
                        id=uuid.uuid4(),
                        programme_code="pnsf",
                        period=period,
                        agreement_id=charged.id,
                        currency="DJF",
                        benefit_minor=BENEFIT,
                        status="closed",
                        build_status="built",
                        lines_count=lines_per_cycle,
                        total_minor=BENEFIT * lines_per_cycle,
                        created_by="bench",
                    )
                    session.add(cycle)
                    await session.flush()
                    paid_on = date(2026, 3 * quarter, 10)
                    statuses = [
                        "paid" if rng.random() < 0.97 else "failed" for _ in range(lines_per_cycle)
                    ]
                    records = [
                        (
                            cycle.id,
                            line_no,
                            f"{period}-{line_no:07d}",
                            "pnsf",
                            period,
                            households[line_no - 1],
                            f"DJ-{line_no:08d}",
                            uuid.uuid4(),
                            uuid.uuid4(),
                            "Amina",
                            "Ali",
                            "Farah",
                            f"+2537700{line_no:04d}",
                            regions[line_no - 1],
                            BENEFIT,
                            "DJF",
                            status,
                            paid_on if status == "paid" else None,
                        )
                        for line_no, status in enumerate(statuses, start=1)
                    ]
                    await raw.copy_records_to_table(
                        "payment_line", records=records, columns=LINE_COLUMNS
                    )
                    lines += len(records)
                    sent_on = date(2026, 3 * quarter - 1, 25)
                    transactions.append(
                        _transaction(3, BENEFIT * lines_per_cycle, sent_on, charged, cycle.id)
                    )
                    paid = BENEFIT * statuses.count("paid")
                    paid_total += paid
                    # Two reconciliations: most lines, then the rest a week later.
                    first = paid * 9 // 10
                    for amount, day in ((first, paid_on), (paid - first, paid_on + timedelta(7))):
                        transactions.append(_transaction(4, amount, day, charged, cycle.id))
                await raw.copy_records_to_table(
                    "transaction", records=transactions, columns=TRANSACTION_COLUMNS
                )
                charged.paid_minor = paid_total
            await session.close()
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
    return Seeded(lines, len(transactions), len(agreements), watch.stop())


TRANSACTION_COLUMNS = (
    "id",
    "type",
    "transaction_date",
    "value_date",
    "currency",
    "amount_minor",
    "amount_djf_minor",
    "amount_usd_minor",
    "rate_to_djf",
    "usd_rate_to_djf",
    "usd_rate_date",
    "agreement_id",
    "agreement_amount_minor",
    "project_id",
    "payment_cycle_id",
    "created_by",
)


def _usd(djf: int) -> int:
    """DJF in USD cents, half away from zero (amounts here are positive)."""
    return int((Decimal(djf) * 100 / USD_RATE).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def _transaction(
    type_: int, amount: int, day: date, agreement: Agreement, cycle: uuid.UUID | None
) -> tuple[object, ...]:
    return (
        uuid.uuid4(),
        type_,
        day,
        day,
        "DJF",
        amount,
        amount,
        _usd(amount),
        Decimal(1),
        USD_RATE,
        date(2025, 1, 1),
        agreement.id,
        amount,
        agreement.project_id,
        cycle,
        "bench",
    )


@dataclass
class Timed:
    label: str
    ms: list[float]

    @property
    def p50(self) -> float:
        return percentiles(self.ms, 50)[0]

    def line(self, anchor: Timed | None = None) -> str:
        ratio = f"  {self.p50 / anchor.p50:5.1f}x its anchor" if anchor else ""
        return (
            f"{self.label:<58} p50 {self.p50:7.1f} ms  best {min(self.ms):7.1f} ms  "
            f"worst {max(self.ms):7.1f} ms{ratio}"
        )


async def time_calls(
    label: str, call: Callable[[], Awaitable[object]], runs: int, warm: int = 3
) -> Timed:
    for _ in range(warm):
        await call()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    return Timed(label, timings)


async def measure(stack: Stack, url: str, runs: int) -> list[tuple[Timed, Timed | None]]:
    headers = auth_headers(stack)
    results: list[tuple[Timed, Timed | None]] = []
    connection = await asyncpg.connect(url)
    async with httpx.AsyncClient(base_url=gateway_url(stack), headers=headers, timeout=60) as http:

        def get(path: str, **params: str) -> Callable[[], Awaitable[object]]:
            async def call() -> object:
                response = await http.get(FUNDING + path, params=params)
                response.raise_for_status()
                return response.content

            return call

        def sql(statement: str) -> Callable[[], Awaitable[object]]:
            async def call() -> object:
                return await connection.fetch(statement)

            return call

        try:
            report_anchor = await time_calls(
                "anchor: the report's aggregate, bare SQL", sql(REPORT_ANCHOR), runs
            )
            payment_anchor = await time_calls(
                "anchor: payment amounts by region, period, bare SQL", sql(PAYMENT_ANCHOR), runs
            )
            disbursed_anchor = await time_calls(
                "anchor: disbursed by partner, year, bare SQL", sql(DISBURSED_ANCHOR), runs
            )
            by_three = {"group_by": "partner,project,year"}
            floor = await time_calls(
                "floor: GET /me (gateway, token, no database)", get("/me"), runs
            )
            for label, call, anchor in (
                (
                    "GET /reports/funding?group_by=partner,project,year",
                    get("/reports/funding", **by_three),
                    report_anchor,
                ),
                (
                    "GET /reports/funding ... &format=csv",
                    get("/reports/funding", **by_three, format="csv"),
                    report_anchor,
                ),
                (
                    "GET /stats?measure=payment_amount&group_by=region,period",
                    get("/stats", measure="payment_amount", group_by="region,period"),
                    payment_anchor,
                ),
                (
                    "GET /stats?measure=disbursed&group_by=partner,year",
                    get("/stats", measure="disbursed", group_by="partner,year"),
                    disbursed_anchor,
                ),
            ):
                results.append((await time_calls(label, call, runs), anchor))
            results += [
                (report_anchor, None),
                (payment_anchor, None),
                (disbursed_anchor, None),
                (floor, None),
            ]
            # What the answers say, so a wrong seed or a wrong sum shows.
            report = (await http.get(FUNDING + "/reports/funding", params=by_three)).json()
            total = report["total"]
            print(
                f"report: {len(report['rows'])} rows; total paid "
                f"{total['paid']['djf']['amount_minor']:,} DJF, committed "
                f"{total['committed']['djf']['amount_minor']:,} DJF"
            )
            stats = await http.get(
                FUNDING + "/stats", params={"measure": "payment_lines", "line_status": "paid"}
            )
            print(f"stats: {stats.json()['total']:,} lines paid")
        finally:
            await connection.close()
    return results


def run(ctx: Context) -> list[Row]:
    lines, cycles = ctx.size(100_000, 200), 4
    transactions, runs = ctx.size(2000, 20), ctx.size(30, 3)
    seeded = asyncio.run(seed(ctx.server_url, lines, cycles, transactions, ctx.seed))
    print(
        f"seeded {seeded.lines:,} payment lines in {cycles} cycles, "
        f"{seeded.transactions} transactions, {seeded.agreements} agreements in "
        f"{seeded.seconds:.1f} s (COPY, then VACUUM ANALYZE)"
    )
    results = asyncio.run(measure(ctx.stack, plain_url(ctx.server_url, "funding"), runs))
    rows = []
    for timed, anchor in results:
        print(timed.line(anchor))
        if anchor is None:
            continue
        target = Target("<=", 1000) if timed.label.startswith("GET /reports/funding?") else None
        rows.append(
            Row(
                f"{timed.label}, p50",
                timed.p50,
                "ms",
                anchor.p50,
                anchor.label.removeprefix("anchor: "),
                target,
                note=f"{seeded.lines:,} payment lines",
            )
        )
    return rows


if __name__ == "__main__":
    scenario_main("funding_report")
