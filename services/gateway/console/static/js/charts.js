// Charts: a Vega-Lite specification drawn by the vendored Vega (vendor/vega.js, loaded the
// first time a chart is drawn), beside the table of its numbers, each downloadable: the
// picture as PNG or SVG, the numbers as CSV. Vega runs with its expression interpreter
// (`ast: true`), so the page's Content-Security-Policy needs no 'unsafe-eval'; it adds no
// style element (`defaultStyle: false`), nor a tooltip.
import { h } from "./dom.js";
import { currentLanguage, t } from "./i18n.js";

const INK = "#1b1f24";
const MUTED = "#4a5260";
// d3-format's locales: a French number is 1 234,5.
const FORMAT_LOCALES = {
  fr: { decimal: ",", thousands: "\u202f", grouping: [3], currency: ["", "\u00a0FDJ"] },
  en: { decimal: ".", thousands: ",", grouping: [3], currency: ["", " DJF"] },
};

let library = null;
let drawn = []; // the views drawn: each let go once its figure has left the page

function vegaEmbed() {
  // A classic bundle: it sets window.vegaEmbed when evaluated.
  library ??= import("../vendor/vega.js").then(() => window.vegaEmbed);
  return library;
}

// `columns`: [{ key, label, numeric }], `rows`: objects keyed by the columns' keys holding the
// API's figures as it wrote them (strings), or null. `format(column, value)`: the text shown.
export function chartFigure({ name, title, description, spec, columns, rows, format = (_, v) => v ?? "" }) {
  const titleId = `chart-${name}-title`;
  // The picture is one image to a screen reader, said in a sentence; the table beside it
  // holds its numbers.
  const canvas = h("div", { class: "chart-canvas", "data-chart-canvas": name, role: "img", "aria-label": spec.description ?? title });
  const status = h("p", { class: "chart-status" }, t("common.loading"));
  const figure = h(
    "figure",
    { class: "chart panel", "data-chart": name, "aria-labelledby": titleId },
    h("figcaption", { id: titleId }, h("h3", {}, title)),
    description ? h("p", { class: "chart-description" }, description) : null,
    canvas,
    status,
    h(
      "div",
      { class: "actions downloads", role: "group", "aria-label": t("chart.downloads", { title }) },
      ["png", "svg", "csv"].map((kind) =>
        h(
          "button",
          {
            type: "button",
            "data-download": kind,
            "aria-label": t(`chart.download.${kind}`, { title }),
            onclick: () => download(figure, kind),
          },
          kind.toUpperCase(),
        ),
      ),
    ),
    dataTable(name, title, columns, rows, format),
  );
  figure.chart = { name, spec, columns, rows, view: null, status };
  return figure;
}

function dataTable(name, title, columns, rows, format) {
  return h(
    "table",
    { class: "chart-data", "data-chart-table": name },
    h("caption", {}, t("chart.numbers", { title })),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "number" : null }, c.label)))),
    h(
      "tbody",
      {},
      rows.length
        ? rows.map((row) =>
            h(
              "tr",
              {},
              columns.map((c, i) =>
                h(
                  i === 0 ? "th" : "td",
                  { scope: i === 0 ? "row" : null, class: c.numeric ? "number" : null, "data-key": c.key, "data-value": row[c.key] ?? "" },
                  format(c, row[c.key], row),
                ),
              ),
            ),
          )
        : h("tr", {}, h("td", { colspan: String(columns.length) }, t("chart.empty"))),
    ),
  );
}

// Draws every chart figure inside `container` (after it is in the document: Vega measures).
export async function drawCharts(container) {
  drawn = drawn.filter((view) => view.container()?.isConnected || (view.finalize(), false));
  const figures = [...container.querySelectorAll("figure[data-chart]")];
  if (!figures.length) return;
  const embed = await vegaEmbed();
  await Promise.all(figures.map((figure) => drawOne(embed, figure)));
}

async function drawOne(embed, figure) {
  const { chart } = figure;
  const canvas = figure.querySelector("[data-chart-canvas]");
  const spec = {
    width: "container",
    autosize: { type: "fit-x", contains: "padding" },
    config: {
      font: "system-ui, sans-serif",
      axis: { labelColor: INK, titleColor: INK, labelFontSize: 12, titleFontSize: 12, domainColor: MUTED, tickColor: MUTED },
      legend: { labelColor: INK, titleColor: INK, labelFontSize: 12, orient: "bottom" },
      header: { labelColor: INK, titleColor: INK, labelFontSize: 12 },
      view: { stroke: null },
    },
    ...chart.spec,
  };
  if (chart.spec.data?.values?.length === 0) {
    // Nothing to draw (every figure withheld or missing): the table says so.
    chart.status.textContent = t("chart.nothing");
    for (const button of figure.querySelectorAll("[data-download=png], [data-download=svg]")) button.disabled = true;
    figure.dataset.rendered = "true";
    return;
  }
  try {
    const result = await embed(canvas, spec, {
      mode: "vega-lite",
      renderer: "svg",
      actions: false,
      ast: true,
      defaultStyle: false,
      tooltip: false,
      formatLocale: FORMAT_LOCALES[currentLanguage()],
    });
    chart.view = result.view;
    drawn.push(result.view);
    chart.status.remove();
    figure.dataset.rendered = "true";
  } catch (error) {
    chart.status.textContent = t("chart.failed", { detail: String(error?.message ?? error) });
    chart.status.setAttribute("role", "alert");
  }
}

async function download(figure, kind) {
  const { chart } = figure;
  const filename = `${chart.name}.${kind}`;
  if (kind === "csv") return save(new Blob(["\ufeff", csv(chart.columns, chart.rows)], { type: "text/csv;charset=utf-8" }), filename);
  if (!chart.view) return;
  if (kind === "svg") return save(new Blob([await chart.view.toSVG()], { type: "image/svg+xml" }), filename);
  // Through a canvas, not a data: address (the page may fetch nothing but the gateway).
  const canvas = await chart.view.toCanvas(2);
  return save(await new Promise((resolve) => canvas.toBlob(resolve, "image/png")), filename);
}

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// The numbers as the API gave them, a column per column of the table (its label as header).
export function csv(columns, rows) {
  const cell = (value) => {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\n\r;]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [columns.map((c) => cell(c.label)), ...rows.map((row) => columns.map((c) => cell(row[c.key])))];
  return lines.map((line) => line.join(",")).join("\r\n") + "\r\n";
}
