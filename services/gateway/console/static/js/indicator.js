// An indicator's page: its trend over the strategy's years against its baselines and
// targets, its breakdowns (region, sex, area, legal status: those it is disaggregated by)
// for the period, and where each value comes from (formula, numerator, denominator,
// definition version, the day the figures were as of), computed now or frozen in a snapshot.
import { h } from "./dom.js";
import { chartFigure } from "./charts.js";
import { date, number } from "./format.js";
import { has, t } from "./i18n.js";
import { BREAKDOWNS, applicable, definition, frozen, named, overall, targets, values, years } from "./results.js";
import { statusBadge, unitText, valueText, withheld } from "./figures.js";

let loaded = null; // { definition, milestones, trend, breakdowns, snapshots, left }

async function load(code, state) {
  const { period } = state.filters;
  const found = await definition(code);
  const { used, left } = applicable(state.filters, found.disaggregations);
  const dimensions = BREAKDOWNS.filter((d) => found.disaggregations.includes(d));
  const [milestones, trend, breakdowns, snapshots] = await Promise.all([
    targets(code),
    Promise.all(years(state.strategy).map(async (year) => ({ year, value: overall(await values(code, year, { filters: used })) }))),
    Promise.all(dimensions.map(async (by) => ({ by, values: (await values(code, period, { by, filters: used })).filter((v) => by in v.cell) }))),
    frozen(code),
  ]);
  loaded = { definition: found, milestones, trend, breakdowns, snapshots, left };
}

function view(state, filters) {
  const { definition: found, left } = loaded;
  const unit = found.unit;
  return [
    h("p", { class: "breadcrumb" }, h("a", { href: "#/dashboard" }, t("me.back"))),
    h("h1", { tabindex: "-1" }, named(found)),
    h("p", { class: "hint" }, `${found.code} · ${t("me.unit")} ${unitText(unit)}${found.sdg_code ? ` · ${t("me.sdg")} ${found.sdg_code}` : ""}`),
    found.description ? h("p", {}, found.description) : null,
    filters,
    left.length ? h("p", { class: "message" }, left.map((name) => t("filter.notApplied", { filter: t(`filter.${name}`) })).join(" ")) : null,
    h("div", { class: "charts" }, trendChart(state), loaded.breakdowns.map((b) => breakdownChart(b, unit, state.filters.period))),
    provenance(),
  ];
}

// A count's axis ticks whole numbers; a percentage's or an amount's, as Vega chooses.
function counted(unit) {
  return ["households", "people"].includes(unit) ? { tickMinStep: 1, format: ",d" } : {};
}

// A table's cell: a figure alone (its column's header names the unit), or withheld.
function figure(column, text, row) {
  if (!column.numeric) return text ?? "";
  if (row?.suppressed && column.key === "value") return withheld();
  return text === null || text === undefined ? "—" : valueText(text);
}

function trendChart(state) {
  const { definition: found, milestones, trend } = loaded;
  const overallOnly = (list) => list.filter((m) => Object.keys(m.cell).length === 0);
  const baselines = new Map(overallOnly(milestones.baselines).map((m) => [String(m.year), m.value]));
  const goals = new Map(overallOnly(milestones.targets).map((m) => [String(m.year), m.value]));
  const allYears = [...new Set([...years(state.strategy), ...baselines.keys(), ...goals.keys()])].sort();
  const byYear = new Map(trend.map((p) => [p.year, p.value]));
  const rows = allYears.map((year) => {
    const found2 = byYear.get(year);
    return {
      year,
      value: found2?.suppressed ? null : (found2?.value ?? null),
      suppressed: !!found2?.suppressed,
      baseline: baselines.get(year) ?? null,
      target: goals.get(year) ?? null,
      status: found2?.status ?? null,
    };
  });
  const labels = { value: t("me.trend.value"), baseline: t("me.trend.baseline"), target: t("me.trend.target") };
  const points = rows.flatMap((row) =>
    ["value", "baseline", "target"].filter((k) => row[k] !== null).map((k) => ({ year: row.year, series: labels[k], amount: Number(row[k]) })),
  );
  const columns = [
    { key: "year", label: t("me.trend.year") },
    { key: "value", label: `${labels.value} (${unitText(found.unit)})`, numeric: true },
    { key: "baseline", label: labels.baseline, numeric: true },
    { key: "target", label: labels.target, numeric: true },
    { key: "status", label: t("me.status") },
  ];
  return chartFigure({
    name: "trend",
    title: t("me.trend.title"),
    description: t("me.trend.hint"),
    columns,
    rows,
    format: (column, text, row) => (column.key === "status" ? (text ? statusBadge(text) : "") : figure(column, text, row)),
    spec: {
      description: t("me.trend.aria", { name: named(found) }),
      height: 220,
      data: { values: points },
      encoding: {
        x: { field: "year", type: "ordinal", title: t("me.trend.year"), axis: { labelAngle: 0 } },
        y: { field: "amount", type: "quantitative", title: unitText(found.unit), axis: counted(found.unit) },
        color: { field: "series", type: "nominal", title: null, scale: { domain: [labels.value, labels.baseline, labels.target], range: ["#0b5394", "#4a5260", "#1e6b34"] } },
        shape: { field: "series", type: "nominal", title: null, scale: { domain: [labels.value, labels.baseline, labels.target], range: ["circle", "square", "diamond"] } },
      },
      layer: [
        { mark: { type: "line", strokeWidth: 2 }, transform: [{ filter: { field: "series", equal: labels.value } }] },
        { mark: { type: "point", filled: true, size: 90 } },
      ],
    },
  });
}

function breakdownChart({ by, values: found }, unit, period) {
  const label = (value) => (value === null ? t("me.unknown") : has(`${by}.${value}`) ? t(`${by}.${value}`) : value);
  const rows = found.map((v) => ({
    code: v.cell[by],
    value: v.suppressed ? null : v.value,
    suppressed: v.suppressed,
    numerator: v.numerator,
    denominator: v.denominator,
  }));
  const drawable = rows.filter((r) => r.value !== null);
  return chartFigure({
    name: `by-${by}`,
    title: t("me.by", { dimension: t(`me.dim.${by}`), period }),
    columns: [
      { key: "code", label: t(`filter.${by}`) },
      { key: "value", label: `${t("me.trend.value")} (${unitText(unit)})`, numeric: true },
      { key: "numerator", label: t("me.numerator"), numeric: true },
      { key: "denominator", label: t("me.denominator"), numeric: true },
    ],
    rows,
    format: (column, text, row) => (column.key === "code" ? label(text) : figure(column, text, row)),
    spec: {
      description: t("me.byAria", { dimension: t(`me.dim.${by}`), period }),
      // A fixed height (a band per cell), not a step: the width fits the page.
      height: 30 * Math.max(1, drawable.length),
      data: { values: drawable.map((r) => ({ cell: label(r.code), amount: Number(r.value) })) },
      layer: [
        { mark: { type: "bar", color: "#0b5394" } },
        { mark: { type: "text", align: "left", dx: 4, color: "#1b1f24" }, encoding: { text: { field: "amount", type: "quantitative", format: ",.4~r" } } },
      ],
      encoding: {
        y: { field: "cell", type: "nominal", title: null, sort: null },
        x: { field: "amount", type: "quantitative", title: unitText(unit), axis: counted(unit) },
      },
    },
  });
}

// Where each value comes from: computed now (for the filters), or frozen in a snapshot.
function provenance() {
  const { definition: found, trend, snapshots } = loaded;
  const formula = found.denominator ? `(${found.numerator}) / (${found.denominator}) × ${found.factor}` : `${found.numerator}${found.factor === "1" ? "" : ` × ${found.factor}`}`;
  const rows = [
    ...trend.filter((p) => p.value).map((p) => ({ source: t("me.prov.live"), value: p.value })),
    ...snapshots.map((s) => ({ source: t("me.prov.snapshot", { date: date((s.snapshot.finished_at ?? s.snapshot.created_at).slice(0, 10)) }), value: s.value })),
  ];
  const asOf = (inputs) => Object.entries(inputs).map(([service, day]) => `${service} ${date(day)}`).join(", ");
  return h(
    "section",
    { class: "panel provenance", "aria-labelledby": "provenance-title" },
    h("h2", { id: "provenance-title" }, t("me.prov.title")),
    h(
      "dl",
      { class: "facts" },
      h("div", { "data-fact": "formula" }, h("dt", {}, t("me.prov.formula")), h("dd", {}, h("code", {}, formula))),
      h("div", { "data-fact": "version" }, h("dt", {}, t("me.prov.current")), h("dd", {}, String(found.version))),
      found.source ? h("div", { "data-fact": "source" }, h("dt", {}, t("me.prov.source")), h("dd", {}, found.source)) : null,
    ),
    h("p", { id: "provenance-hint", class: "hint" }, t("me.prov.caption")),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "provenance-table", "aria-labelledby": "provenance-title", "aria-describedby": "provenance-hint" },
        h(
          "thead",
          {},
          h("tr", {}, [t("me.prov.period"), `${t("me.trend.value")} (${unitText(found.unit)})`, t("me.numerator"), t("me.denominator"), t("me.prov.version"), t("me.prov.asOf"), t("me.status")].map((text) => h("th", { scope: "col" }, text))),
        ),
        h(
          "tbody",
          {},
          rows.map(({ source, value }) =>
            h(
              "tr",
              { "data-period": value.period, "data-source": source },
              h("th", { scope: "row" }, value.period, h("span", { class: "origin" }, source)),
              h("td", { class: "number", "data-value": value.value ?? "" }, value.suppressed ? withheld() : value.value === null ? (value.reason ?? "—") : valueText(value.value)),
              h("td", { class: "number", "data-value": value.numerator ?? "" }, value.numerator === null ? "—" : number(value.numerator)),
              h("td", { class: "number", "data-value": value.denominator ?? "" }, value.denominator === null ? "—" : number(value.denominator)),
              h("td", { class: "number" }, String(value.version)),
              h("td", {}, asOf(value.inputs_as_of)),
              h("td", {}, statusBadge(value.status)),
            ),
          ),
        ),
      ),
    ),
  );
}

export const indicatorPage = { load, view };
