// The M&E dashboard: the results framework as a tree, each indicator with its latest value
// and status; refugee inclusion against its target of households; funds mobilised and
// disbursed by partner and year; the filters (period, region, sex, legal status) the
// charts are computed for. `#/dashboard/<code>` is an indicator's own page (indicator.js).
import { h, message, show } from "./dom.js";
import { chartFigure, drawCharts } from "./charts.js";
import { number } from "./format.js";
import { plural, t } from "./i18n.js";
import { ApiError } from "./session.js";
import { indicatorPage } from "./indicator.js";
import {
  LEGAL_STATUSES,
  REGIONS,
  SEXES,
  applicable,
  framework,
  named,
  overall,
  strategies,
  targetFor,
  targets,
  values,
  years,
} from "./results.js";
import { statusBadge, valueText, withheld } from "./figures.js";

const REFUGEES = "REFUGEE_HH";
const FUNDS = "DISBURSEMENT_RATE";
// What the refugee chart aims at when the indicator has no target of its own: the
// strategy's 1,500 households.
const REFUGEE_GOAL = "1500";

const state = {
  container: null,
  code: null, // the indicator shown, or null for the overview
  strategy: null, // the framework tree
  filters: { period: null, region: "", sex: "", legal_status: "" },
  overview: null, // { refugees, funds }
  error: null,
  opening: 0, // the latest open: an earlier one still loading draws nothing
};

async function open(container, rest = "") {
  const opening = ++state.opening;
  state.container = container;
  state.error = null;
  state.code = rest ? decodeURIComponent(rest) : null;
  show(container, h("h1", { tabindex: "-1" }, t("me.title")), message("info", t("common.loading")));
  try {
    if (!state.strategy) {
      const listed = await strategies();
      state.strategy = listed.length ? await framework(listed[0].code) : null;
    }
    if (state.strategy && !state.filters.period) state.filters.period = years(state.strategy).at(-1);
    if (state.code) await indicatorPage.load(state.code, state);
    else if (state.strategy) state.overview = await loadOverview();
  } catch (error) {
    state.error = error;
  }
  if (opening === state.opening) await draw();
}

async function loadOverview() {
  const { period } = state.filters;
  const refugeeFilters = applicable(state.filters, ["region", "sex"]);
  const [refugeeValues, refugeeTargets, funds] = await Promise.all([
    values(REFUGEES, period, { filters: refugeeFilters.used }),
    targets(REFUGEES),
    Promise.all(
      years(state.strategy)
        .filter((year) => year <= period)
        .map(async (year) => ({ year, values: await values(FUNDS, year, { by: "partner" }) })),
    ),
  ]);
  return { refugees: { value: overall(refugeeValues), target: targetFor(refugeeTargets, period), left: refugeeFilters.left }, funds };
}

async function draw() {
  const { container } = state;
  if (!container) return;
  if (state.error) {
    const forbidden = state.error instanceof ApiError && state.error.status === 403;
    show(container, h("h1", { tabindex: "-1" }, t("me.title")), message("error", forbidden ? t("common.forbidden") : t("common.error", { detail: state.error.message })));
    return;
  }
  if (!state.strategy) {
    show(container, h("h1", { tabindex: "-1" }, t("me.title")), message("info", t("me.noFramework")));
    return;
  }
  if (state.code) {
    show(container, ...indicatorPage.view(state, filtersForm()));
  } else {
    show(
      container,
      h("h1", { tabindex: "-1" }, t("me.title")),
      h("p", {}, t("me.intro", { strategy: named(state.strategy) })),
      filtersForm(),
      h("div", { class: "dashboard" }, tree(), h("div", { class: "charts" }, refugeeChart(), fundsChart())),
    );
  }
  await drawCharts(container);
}

// The filters, applied when changed: each chart is computed again for them.
function filtersForm() {
  const select = (name, choices, label) => {
    const id = `filter-${name}`;
    const field = h(
      "select",
      { id, name, onchange: (event) => refilter(name, event.currentTarget.value) },
      choices.map(([value, text]) => h("option", { value, selected: state.filters[name] === value }, text)),
    );
    return h("div", { class: "filter" }, h("label", { for: id }, label), field);
  };
  const all = ["", t("filter.all")];
  return h(
    "form",
    { class: "filters panel", "aria-label": t("filter.label"), onsubmit: (event) => event.preventDefault() },
    select("period", years(state.strategy).map((y) => [y, y]), t("filter.period")),
    select("region", [all, ...REGIONS.map((r) => [r, t(`region.${r}`)])], t("filter.region")),
    select("sex", [all, ...SEXES.map((s) => [s, t(`sex.${s}`)])], t("filter.sex")),
    select("legal_status", [all, ...LEGAL_STATUSES.map((s) => [s, t(`legal_status.${s}`)])], t("filter.legal_status")),
  );
}

async function refilter(name, value) {
  state.filters[name] = value;
  await open(state.container, state.code ? encodeURIComponent(state.code) : "");
  state.container.querySelector(`#filter-${name}`)?.focus();
}

// Axes, their objectives, and the indicators measuring each: latest frozen value, status.
function tree() {
  return h(
    "section",
    { class: "panel framework", "aria-labelledby": "framework-title" },
    h("h2", { id: "framework-title" }, t("me.framework", { strategy: state.strategy.code })),
    h("p", { class: "hint" }, t("me.frameworkHint")),
    h(
      "ul",
      { class: "tree", "aria-labelledby": "framework-title" },
      state.strategy.axes.map((axis) =>
        h(
          "li",
          { "data-axis": axis.code },
          h("span", { class: "node axis" }, `${axis.code} — ${named(axis)}`),
          h(
            "ul",
            {},
            axis.objectives.map((objective) =>
              h(
                "li",
                { "data-objective": objective.code },
                h("span", { class: "node objective" }, `${objective.code} — ${named(objective)}`),
                objective.indicators.length
                  ? h("ul", {}, objective.indicators.map(indicatorNode))
                  : h("p", { class: "hint" }, t("me.noIndicator")),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function indicatorNode(indicator) {
  const latest = indicator.latest;
  return h(
    "li",
    { class: "indicator", "data-indicator": indicator.code, "data-status": latest?.status ?? "" },
    h("a", { href: `#/dashboard/${encodeURIComponent(indicator.code)}` }, named(indicator)),
    h(
      "span",
      { class: "latest" },
      latest
        ? [
            h("span", { class: "value", "data-value": latest.value ?? "" }, latest.value === null ? withheld() : valueText(latest.value, indicator.unit)),
            h("span", { class: "period" }, ` (${latest.period})`),
            statusBadge(latest.status),
          ]
        : h("span", { class: "value none" }, t("me.noValue")),
    ),
  );
}

function refugeeChart() {
  const { value, target, left } = state.overview.refugees;
  const goal = target?.value ?? REFUGEE_GOAL;
  const goalYear = target?.year ?? null;
  const shown = value?.value ?? null;
  const share = shown === null ? null : String(Math.round((Number(shown) / Number(goal)) * 1000) / 10);
  const label = t("me.refugees.households");
  const rows = [{ measure: label, households: shown, goal, share }];
  const notes = [t("me.forPeriod", { period: state.filters.period }), ...left.map((name) => t("filter.notApplied", { filter: t(`filter.${name}`) }))];
  return chartFigure({
    name: "refugee-inclusion",
    title: t("me.refugees.title", { goal: number(goal) }),
    description: notes.join(" "),
    columns: [
      { key: "measure", label: t("me.refugees.measure") },
      { key: "households", label: t("me.refugees.registered"), numeric: true },
      { key: "goal", label: goalYear ? t("me.refugees.goalYear", { year: goalYear }) : t("me.refugees.goal"), numeric: true },
      { key: "share", label: t("me.refugees.share"), numeric: true },
    ],
    rows,
    format: (column, text) => (text === null || text === undefined ? withheld() : column.key === "share" ? `${number(text)} %` : column.numeric ? number(text) : text),
    spec: {
      description:
        shown === null
          ? t("me.refugees.aria.other", { value: t("me.withheld"), goal: number(goal) })
          : plural("me.refugees.aria", Number(shown), { value: number(shown), goal: number(goal) }),
      height: 60,
      // A withheld figure draws no bar (Vega-Lite leaves a null out), never a zero.
      data: { values: [{ label, value: shown === null ? null : Number(shown), goal: Number(goal) }] },
      layer: [
        { mark: { type: "bar", color: "#e3e8ef", height: 28 }, encoding: { x: { field: "goal", type: "quantitative", title: t("me.refugees.axis") }, y: { field: "label", type: "nominal", title: null } } },
        { mark: { type: "bar", color: "#0b5394", height: 28 }, encoding: { x: { field: "value", type: "quantitative" }, y: { field: "label", type: "nominal" } } },
        { mark: { type: "text", align: "left", dx: 6, color: "#1b1f24" }, encoding: { x: { field: "value", type: "quantitative" }, y: { field: "label", type: "nominal" }, text: { field: "value", type: "quantitative", format: ",d" } } },
      ],
    },
  });
}

function fundsChart() {
  const partnerOf = (cell) => cell.partner ?? t("me.funds.noPartner");
  const rows = state.overview.funds.flatMap(({ year, values: found }) =>
    found
      .filter((v) => "partner" in v.cell)
      .map((v) => ({ partner: partnerOf(v.cell), year, mobilised: v.denominator, disbursed: v.numerator, rate: v.value })),
  );
  const mobilised = t("me.funds.mobilised");
  const disbursed = t("me.funds.disbursed");
  const points = rows.flatMap((row) => {
    const group = `${row.year} · ${row.partner}`;
    return [
      { group, measure: mobilised, amount: Number(row.mobilised ?? 0) },
      { group, measure: disbursed, amount: Number(row.disbursed ?? 0) },
    ];
  });
  return chartFigure({
    name: "funds",
    title: t("me.funds.title"),
    description: t("me.funds.hint"),
    columns: [
      { key: "partner", label: t("me.funds.partner") },
      { key: "year", label: t("me.funds.year") },
      { key: "mobilised", label: mobilised, numeric: true },
      { key: "disbursed", label: disbursed, numeric: true },
      { key: "rate", label: t("me.funds.rate"), numeric: true },
    ],
    rows,
    format: (column, text) => (text === null || text === undefined ? "—" : column.key === "rate" ? `${number(Math.round(Number(text) * 10) / 10)} %` : column.numeric ? number(text) : text),
    spec: {
      description: t("me.funds.aria"),
      data: { values: points },
      height: 36 * Math.max(1, rows.length),
      mark: { type: "bar" },
      encoding: {
        y: { field: "group", type: "nominal", title: null, sort: null },
        yOffset: { field: "measure", sort: [mobilised, disbursed] },
        x: { field: "amount", type: "quantitative", title: t("me.funds.axis"), axis: { format: "~s" } },
        color: { field: "measure", type: "nominal", title: null, sort: [mobilised, disbursed], scale: { domain: [mobilised, disbursed], range: ["#0b5394", "#b35900"] } },
      },
    },
  });
}

export const dashboard = { open, draw };
