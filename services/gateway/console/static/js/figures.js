// An indicator's figures as the page shows them: a value with its unit, a status as a
// coloured badge that also says it in words (and a sign), a figure withheld (small cell).
import { h } from "./dom.js";
import { number } from "./format.js";
import { has, plural, t } from "./i18n.js";

const SIGNS = { achieved: "✓", on_track: "↗", off_track: "!", no_target: "–" };

// A unit the API names (households, DJF...) in the page's language, for `count` of it when
// given ("1 ménage"); % as it is.
export function unitText(unit, count) {
  if (!has(`unit.${unit}`)) return unit;
  return count === undefined ? t(`unit.${unit}`) : plural(`unit.${unit}`, count);
}

// `unit` left out: the figure alone (a table whose header names the unit).
export function valueText(value, unit = "") {
  if (value === null || value === undefined) return "";
  const shown = number(Math.round(Number(value) * 100) / 100);
  if (!unit) return shown;
  return unit === "%" ? `${shown} %` : `${shown} ${unitText(unit, Number(value))}`;
}

export function statusBadge(status) {
  if (!status) return null;
  return h(
    "span",
    { class: `status status-${status}`, "data-status": status },
    h("span", { "aria-hidden": "true" }, SIGNS[status] ?? ""),
    ` ${t(`status.${status}`)}`,
  );
}

export function withheld() {
  return h("span", { class: "withheld", title: t("me.withheldWhy") }, t("me.withheld"));
}
