// The results framework as the indicators API gives it to the signed-in person: strategies,
// the tree of one, definitions, targets, values computed now and values frozen in
// snapshots; and the dashboard's filters, which become the values' query.
import { currentLanguage } from "./i18n.js";
import { api } from "./session.js";

const INDICATORS = "api/v1/indicators";
// The filters the dashboard offers, each a disaggregation an indicator may or may not have.
export const FILTERS = ["region", "sex", "legal_status"];
export const BREAKDOWNS = ["region", "sex", "area", "legal_status"];
// Djibouti's regions (ISO 3166-2:DJ), as the registry codes them.
export const REGIONS = ["DJ-DJ", "DJ-AR", "DJ-AS", "DJ-DI", "DJ-OB", "DJ-TA"];
export const SEXES = ["F", "M"];
export const LEGAL_STATUSES = ["national", "refugee", "asylum_seeker", "migrant", "other"];

// The name in the page's language (the API holds both).
export function named(item) {
  return currentLanguage() === "en" ? item.name_en : item.name_fr;
}

export function strategies() {
  return api(`${INDICATORS}/frameworks`);
}

export function framework(code) {
  return api(`${INDICATORS}/frameworks/${encodeURIComponent(code)}`);
}

export function definition(code) {
  return api(`${INDICATORS}/definitions/${encodeURIComponent(code)}`);
}

export function targets(code) {
  return api(`${INDICATORS}/definitions/${encodeURIComponent(code)}/targets`);
}

// The filters that apply to an indicator: those among its disaggregations (the API refuses
// the others), and which of the chosen ones it had to leave out.
export function applicable(filters, disaggregations) {
  const used = {};
  const left = [];
  for (const [name, value] of Object.entries(filters)) {
    if (!value || name === "period") continue;
    if (disaggregations.includes(name)) used[name] = value;
    else left.push(name);
  }
  return { used, left };
}

// `GET /values`: the indicator's values of the period, overall then by `by`, for the part of
// the population the filters choose.
export async function values(code, period, { by = null, filters = {} } = {}) {
  const query = new URLSearchParams({ indicator: code, period });
  if (by) query.set("by", by);
  for (const [name, value] of Object.entries(filters)) query.set(name, value);
  const answer = await api(`${INDICATORS}/values?${query}`);
  return answer.values.filter((v) => v.indicator === code);
}

export function overall(values) {
  return values.find((v) => Object.keys(v.cell).length === 0) ?? null;
}

// The newest done snapshot of each period, and the indicator's overall value frozen in it.
export async function frozen(code) {
  const done = await api(`${INDICATORS}/snapshots?status=done&limit=100`);
  const newest = new Map();
  for (const snapshot of done) if (!newest.has(snapshot.period)) newest.set(snapshot.period, snapshot);
  const found = await Promise.all(
    [...newest.values()]
      .filter((snapshot) => snapshot.indicators === null || snapshot.indicators.includes(code))
      .map(async (snapshot) => {
        const answer = await api(`${INDICATORS}/snapshots/${snapshot.id}/values?indicator=${encodeURIComponent(code)}`);
        const value = overall(answer.values);
        return value ? { snapshot, value } : null;
      }),
  );
  return found.filter(Boolean).sort((a, b) => a.snapshot.period.localeCompare(b.snapshot.period));
}

// The years a strategy spans, up to this one.
export function years(strategy, today = new Date()) {
  const now = today.getUTCFullYear();
  const first = strategy.start_year ?? now;
  const last = Math.min(strategy.end_year ?? now, now);
  const list = [];
  for (let year = first; year <= last; year++) list.push(String(year));
  return list.length ? list : [String(now)];
}

// The target a value of `year` is judged against (the status rule's): the first of that
// year or later, else the last before it; overall targets only.
export function targetFor(milestones, year) {
  const all = milestones.targets.filter((m) => Object.keys(m.cell).length === 0);
  const later = all.filter((m) => m.year >= Number(year)).sort((a, b) => a.year - b.year);
  if (later.length) return later[0];
  return all.sort((a, b) => b.year - a.year)[0] ?? null;
}
