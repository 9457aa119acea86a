"""The M&E dashboard in a real browser, on the stack seeded with a results framework
(tests/console/seed_results.py): every figure read back from the page (its data tables, its
CSV downloads, the charts' marks) and checked against what the indicators API answers the
same person."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.console.accessibility import focus_path, low_contrast
from tests.console.conftest import screenshot, sign_in
from tests.console.seed import ok, password_headers
from tests.console.seed_results import INDICATORS, PERIOD, STRATEGY
from tests.support.stack import RunningStack

pytestmark = pytest.mark.e2e


def _api(stack: RunningStack, username: str, path: str, **params: str) -> Any:
    headers = password_headers(stack, username)
    return ok(httpx.get(f"{stack.url}{INDICATORS}{path}", params=params, headers=headers))


def _overall(answer: dict[str, Any], code: str) -> dict[str, Any]:
    return next(v for v in answer["values"] if v["indicator"] == code and v["cell"] == {})


def _tree_indicators(tree: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        indicator
        for axis in tree["axes"]
        for objective in axis["objectives"]
        for indicator in objective["indicators"]
    ]


def _open_dashboard(page, stack: RunningStack, username: str = "nadia") -> None:
    sign_in(page, stack, username)
    page.locator('figure[data-chart="funds"][data-rendered]').wait_for()
    page.locator('figure[data-chart="refugee-inclusion"][data-rendered]').wait_for()


def _table(page, chart: str) -> list[dict[str, str]]:
    """The chart's data table: per row, each column's figure as the API wrote it."""
    return page.locator(f'table[data-chart-table="{chart}"] tbody tr').evaluate_all(
        """rows => rows.map(row => Object.fromEntries(
            [...row.querySelectorAll('[data-key]')].map(c => [c.dataset.key, c.dataset.value])))"""
    )


def _download(page, chart: str, kind: str) -> bytes:
    with page.expect_download() as started:
        page.locator(f'figure[data-chart="{chart}"] button[data-download="{kind}"]').click()
    download = started.value
    assert download.suggested_filename == f"{chart}.{kind}"
    return Path(download.path()).read_bytes()


def _spaced(text: str) -> str:
    """French groups thousands with narrow no-break spaces: read as spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_framework_tree_shows_each_indicators_latest_value_and_status(
    page, stack: RunningStack
) -> None:
    tree = _api(stack, "nadia", f"/frameworks/{STRATEGY}")
    _open_dashboard(page, stack)
    assert page.locator("#nav a").all_inner_texts() == ["Tableau de bord S&E"]
    assert page.evaluate("location.hash") == "#/dashboard"

    shown = page.locator(".tree li.indicator")
    expected = _tree_indicators(tree)
    assert [i.get_attribute("data-indicator") for i in shown.all()] == [i["code"] for i in expected]
    statuses = {"achieved": "atteint", "on_track": "en bonne voie", "off_track": "en retard"}
    for indicator in expected:
        node = page.locator(f'.tree li[data-indicator="{indicator["code"]}"]')
        assert node.locator("a").inner_text() == indicator["name_fr"]
        latest = indicator["latest"]
        assert latest is not None and latest["period"] == PERIOD, indicator
        assert node.locator(".value").get_attribute("data-value") == latest["value"]
        if latest["status"] in statuses:
            # The colour is said in words too.
            assert node.locator(".status").inner_text().strip().endswith(statuses[latest["status"]])
    # The seeded targets give one of each: off track, on track, achieved.
    assert {i["latest"]["status"] for i in expected} >= set(statuses)
    screenshot(page, "dashboard")


def test_the_charts_show_and_download_the_numbers_the_api_gives(page, stack: RunningStack) -> None:
    refugees = _overall(
        _api(stack, "nadia", "/values", indicator="REFUGEE_HH", period=PERIOD), "REFUGEE_HH"
    )
    targets = _api(stack, "nadia", "/definitions/REFUGEE_HH/targets")
    funds = {
        year: _api(
            stack, "nadia", "/values", indicator="DISBURSEMENT_RATE", period=year, by="partner"
        )
        for year in ("2025", "2026")
    }
    _open_dashboard(page, stack)

    [row] = _table(page, "refugee-inclusion")
    assert row["households"] == refugees["value"] == "4"
    assert row["goal"] == targets["targets"][0]["value"] == "1500"
    figure = page.locator('figure[data-chart="refugee-inclusion"]')
    assert "1 500 ménages" in _spaced(figure.locator("h3").inner_text())
    aria = figure.locator(".chart-canvas").get_attribute("aria-label") or ""
    assert "4 ménages réfugiés sur un objectif de 1 500" in _spaced(aria)

    expected = [
        [v["cell"]["partner"], year, v["denominator"], v["numerator"], v["value"] or ""]
        for year, answer in funds.items()
        for v in answer["values"]
        if "partner" in v["cell"]
    ]
    assert len(expected) >= 3, "two partners, two years"
    lines = _csv(_download(page, "funds", "csv"))
    assert lines[0] == ["Partenaire", "Année", "Mobilisé", "Décaissé", "Taux de décaissement"]
    assert lines[1:] == expected
    # The chart draws a bar per figure: mobilised and disbursed for each partner and year.
    bars = page.locator('figure[data-chart="funds"] svg .mark-rect path')
    assert bars.count() == 2 * len(expected)

    png = _download(page, "funds", "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    svg = _download(page, "funds", "svg").decode()
    assert svg.startswith("<svg") and "Décaissé" in svg
    screenshot(page, "dashboard-charts")


def test_a_filter_computes_the_charts_again(page, stack: RunningStack) -> None:
    men = _overall(
        _api(stack, "nadia", "/values", indicator="REFUGEE_HH", period=PERIOD, sex="M"),
        "REFUGEE_HH",
    )
    _open_dashboard(page, stack)
    assert _table(page, "refugee-inclusion")[0]["households"] == "4"
    page.get_by_label("Sexe", exact=True).select_option("M")
    page.locator('table[data-chart-table="refugee-inclusion"] td[data-value="1"]').wait_for()
    assert _table(page, "refugee-inclusion")[0]["households"] == men["value"] == "1"
    assert page.evaluate("document.activeElement.id") == "filter-sex", "the focus stays"
    page.locator('figure[data-chart="refugee-inclusion"][data-rendered]').wait_for()
    aria = page.locator('figure[data-chart="refugee-inclusion"] .chart-canvas').get_attribute(
        "aria-label"
    )
    assert "1 ménage réfugié sur" in (aria or ""), "one household, in the singular"


def test_an_indicator_page_shows_its_trend_breakdowns_and_provenance(
    page, stack: RunningStack
) -> None:
    code = "REFUGEE_HH"
    definition = _api(stack, "nadia", f"/definitions/{code}")
    by_year = {
        year: _overall(_api(stack, "nadia", "/values", indicator=code, period=year), code)
        for year in ("2025", "2026")
    }
    by_region = _api(stack, "nadia", "/values", indicator=code, period=PERIOD, by="region")
    _open_dashboard(page, stack)
    page.locator(f'.tree li[data-indicator="{code}"] a').focus()
    page.keyboard.press("Enter")
    page.locator('figure[data-chart="trend"][data-rendered]').wait_for()
    assert page.locator("#view h1").inner_text() == definition["name_fr"]
    assert page.evaluate("document.activeElement.tagName") == "H1"

    trend = {row["year"]: row for row in _table(page, "trend")}
    assert trend["2025"]["value"] == by_year["2025"]["value"]
    assert trend["2026"]["value"] == by_year["2026"]["value"] == "4"
    assert trend["2025"]["baseline"] == "0"
    assert trend["2027"]["target"] == "1500"
    # A breakdown for each of its disaggregations among region, sex, area, legal status.
    shown = page.locator("figure[data-chart^=by-]").evaluate_all(
        "figures => figures.map(f => f.dataset.chart)"
    )
    assert shown == ["by-region", "by-sex"] == [f"by-{d}" for d in definition["disaggregations"]]
    regions = {v["cell"]["region"]: v["value"] for v in by_region["values"] if v["cell"]}
    assert {r["code"]: r["value"] for r in _table(page, "by-region")} == regions
    assert page.locator('figure[data-chart="by-region"] svg .mark-rect path').count() == len(
        regions
    )

    provenance = page.locator(".provenance")
    assert definition["numerator"] in provenance.locator("[data-fact=formula] dd").inner_text()
    frozen = provenance.locator("tbody tr").filter(has_text="instantané")
    assert frozen.count() == 1
    value, numerator, denominator, version, as_of, status = frozen.locator("td").all_inner_texts()
    assert (value, numerator, denominator) == ("4", "4", "—"), "a count: no denominator"
    assert version == str(definition["version"])
    assert "beneficiaries" in as_of, "the day the registry's figures were as of"
    assert status.strip().endswith("en retard")
    screenshot(page, "indicator")

    # Women only: the breakdown by region is computed again.
    women = _api(stack, "nadia", "/values", indicator=code, period=PERIOD, by="region", sex="F")
    page.get_by_label("Sexe", exact=True).select_option("F")
    page.locator('figure[data-chart="by-region"][data-rendered]').wait_for()
    expected = {v["cell"]["region"]: v["value"] for v in women["values"] if v["cell"]}
    assert {r["code"]: r["value"] for r in _table(page, "by-region")} == expected
    assert expected != regions


def test_the_language_switch_changes_the_labels_and_the_names(page, stack: RunningStack) -> None:
    tree = _api(stack, "nadia", f"/frameworks/{STRATEGY}")
    _open_dashboard(page, stack)
    page.get_by_role("button", name="EN", exact=True).click()
    page.locator('figure[data-chart="funds"][data-rendered]').wait_for()
    assert page.locator("#view h1").inner_text() == "Monitoring and evaluation dashboard"
    assert page.locator("#nav a").all_inner_texts() == ["M&E dashboard"]
    names = page.locator(".tree li.indicator a").all_inner_texts()
    assert names == [i["name_en"] for i in _tree_indicators(tree)]
    assert page.get_by_label("Legal status", exact=True).is_visible()
    assert (
        page.locator('.tree li[data-status="off_track"] .status')
        .inner_text()
        .strip()
        .endswith("off track")
    )
    lines = _csv(_download(page, "funds", "csv"))
    assert lines[0] == ["Partner", "Year", "Mobilised", "Disbursed", "Disbursement rate"]
    screenshot(page, "dashboard-en")


def test_an_analyst_sees_small_cells_withheld(page, stack: RunningStack) -> None:
    """Four refugee households are fewer than the small-cell threshold: the API gives an
    analyst the value without its figure, and the page says it is withheld."""
    refugees = _overall(
        _api(stack, "leila", "/values", indicator="REFUGEE_HH", period=PERIOD), "REFUGEE_HH"
    )
    assert refugees["suppressed"] and refugees["value"] is None
    _open_dashboard(page, stack, "leila")
    [row] = _table(page, "refugee-inclusion")
    assert row["households"] == ""
    cell = page.locator('table[data-chart-table="refugee-inclusion"] td[data-key=households]')
    assert cell.inner_text() == "masqué"
    node = page.locator('.tree li[data-indicator="REFUGEE_HH"] .value')
    assert node.inner_text() == "masqué"


def test_the_dashboard_reads_well_by_keyboard_and_at_tablet_width(
    page, stack: RunningStack
) -> None:
    _open_dashboard(page, stack)
    assert low_contrast(page) == [], "every text meets WCAG AA contrast"
    path = focus_path(page, limit=60)
    assert [step for step in path if not step["outline"]] == [], "focus is always visible"
    reached = [step["label"] for step in path]
    for control in ("EN", "Se déconnecter", "PNG", "SVG", "CSV"):
        assert control in reached, f"{control} is reached by keyboard"
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], "nothing scrolls sideways on a tablet"
    page.set_viewport_size({"width": 768, "height": 1024})
    page.locator(".tree li[data-indicator=SDG131_PROXY] a").click()
    page.locator('figure[data-chart="by-legal_status"][data-rendered]').wait_for()
    assert low_contrast(page) == []
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    screenshot(page, "indicator-768")
