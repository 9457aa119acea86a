// Duplicate review, for data managers: the open pairs, highest score first; one pair's two
// records side by side, the differing fields marked, the reasons of the score; and the
// decision (not a duplicate, or merge keeping one record). A pair resolved by someone else
// meanwhile is answered 409 by the API: the page says so and shows the pair as it is now.
import { announce, h, message, show } from "./dom.js";
import { date, number, percent } from "./format.js";
import { has, plural, t } from "./i18n.js";
import { api, ApiError } from "./session.js";

const BASE = "api/v1/beneficiaries/duplicates";
const PAGE_SIZE = 500;
const MAX_PAGES = 10; // the queue's first 5,000 pairs are ranked
// What tells two people apart; the household's registry number is shown, not compared.
const COMPARED = ["given_name", "father_name", "grandfather_name", "sex", "birth_date", "status"];

const state = { container: null, pairs: null, selected: null, notice: null, error: null };

async function loadPairs() {
  const pairs = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ status: "open", limit: String(PAGE_SIZE) });
    if (cursor) query.set("cursor", cursor);
    const answer = await api(`${BASE}?${query}`);
    pairs.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  // Highest score first; the oldest first among equal scores (the API's own order).
  return pairs
    .map((pair, index) => ({ pair, index }))
    .sort((a, b) => b.pair.score - a.pair.score || a.index - b.index)
    .map(({ pair }) => pair);
}

async function open(container) {
  state.container = container;
  state.error = null;
  show(container, h("h1", { tabindex: "-1" }, t("dup.title")), message("info", t("common.loading")));
  try {
    state.pairs = await loadPairs();
    if (state.selected && !state.pairs.some((p) => p.id === state.selected.id)) {
      state.selected = state.selected.status === "open" ? null : state.selected;
    }
  } catch (error) {
    state.pairs = [];
    state.error = error;
  }
  draw();
}

async function select(pairId) {
  state.notice = null;
  try {
    // Read again: the list may be stale, and the pair's reasons are in its own answer.
    state.selected = await api(`${BASE}/${pairId}`);
  } catch (error) {
    state.notice = { kind: "error", text: t("common.error", { detail: error.message }) };
  }
  draw();
  state.container.querySelector("#pair-title")?.focus();
}

async function resolve(decision, keep, note) {
  const pair = state.selected;
  try {
    const body = { decision, ...(decision === "merge" ? { keep } : {}), ...(note ? { note } : {}) };
    state.selected = await api(`${BASE}/${pair.id}/resolve`, { method: "POST", body });
    const kept = keep === "candidate" ? "A" : "B";
    state.notice = {
      kind: "success",
      text: decision === "merge" ? t("dup.merged", { kept }) : t("dup.closed"),
    };
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      state.notice = { kind: "error", text: t("dup.resolvedMeanwhile", { detail: error.message }) };
      state.selected = await api(`${BASE}/${pair.id}`).catch(() => pair);
    } else {
      state.notice = { kind: "error", text: t("common.error", { detail: error.message }) };
    }
  }
  announce(state.notice.text);
  await open(state.container);
  state.container.querySelector("#pair-title")?.focus();
}

function draw() {
  const { container, pairs } = state;
  if (!container) return;
  const heading = h("h1", { tabindex: "-1" }, t("dup.title"));
  if (state.error) {
    const forbidden = state.error instanceof ApiError && state.error.status === 403;
    show(container, heading, message("error", forbidden ? t("common.forbidden") : t("common.error", { detail: state.error.message })));
    return;
  }
  if (pairs === null) {
    // The language changed while the pairs load: the same wait, in the new language.
    show(container, heading, message("info", t("common.loading")));
    return;
  }
  const intro = pairs.length ? plural("dup.intro", pairs.length, { count: number(pairs.length) }) : t("dup.none");
  show(
    container,
    heading,
    h("p", {}, intro),
    h("div", { class: "split" }, pairList(pairs), h("section", { class: "panel pair-detail", "aria-labelledby": "pair-title" }, detail())),
  );
}

function pairList(pairs) {
  if (!pairs.length) return null;
  return h(
    "section",
    { class: "panel", "aria-labelledby": "pairs-title" },
    h("h2", { id: "pairs-title" }, t("dup.list")),
    h(
      "ol",
      { class: "pair-list" },
      pairs.map((pair) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "pair",
              "data-pair": pair.id,
              "aria-current": state.selected?.id === pair.id ? "true" : null,
              onclick: () => select(pair.id),
            },
            h("span", { class: "score" }, t("dup.score", { score: percent(pair.score) })),
            h("span", { class: "names" }, fullName(pair.candidate)),
            h("span", { class: "names" }, fullName(pair.individual)),
          ),
        ),
      ),
    ),
  );
}

function detail() {
  const pair = state.selected;
  const notice = state.notice ? message(state.notice.kind, state.notice.text) : null;
  if (!pair) return [notice, h("p", { id: "pair-title", tabindex: "-1" }, t("dup.pick"))];
  return [
    h("h2", { id: "pair-title", tabindex: "-1" }, t("dup.pair", { score: percent(pair.score) })),
    notice,
    comparison(pair),
    reasons(pair.reasons),
    pair.status === "open" ? decisionForm() : resolution(pair),
  ];
}

function resolution(pair) {
  const status = has(`pair.${pair.status}`) ? t(`pair.${pair.status}`) : pair.status;
  const who = (pair.resolved_by ?? "").replace(/^user:/, "");
  return h("p", { class: "resolved", "data-status": pair.status }, t("dup.resolvedBy", { status, who }));
}

function comparison(pair) {
  const rows = COMPARED.map((field) => {
    const a = pair.candidate[field];
    const b = pair.individual[field];
    const differs = (a ?? "") !== (b ?? "");
    return h(
      "tr",
      { "data-field": field, class: differs ? "differs" : null },
      h("th", { scope: "row" }, t(`field.${field}`), differs ? h("span", { class: "badge" }, t("dup.differs")) : null),
      h("td", {}, value(field, a)),
      h("td", {}, value(field, b)),
    );
  });
  const context = h(
    "tr",
    { "data-field": "registry_number", class: "context" },
    h("th", { scope: "row" }, t("field.registry_number")),
    h("td", {}, pair.candidate.registry_number ?? "—"),
    h("td", {}, pair.individual.registry_number ?? "—"),
  );
  return h(
    "table",
    { class: "compare" },
    h("caption", {}, t("dup.compare")),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("dup.field")), h("th", { scope: "col" }, t("dup.candidate")), h("th", { scope: "col" }, t("dup.individual")))),
    h("tbody", {}, rows, context),
  );
}

function value(field, raw) {
  if (raw === null || raw === undefined || raw === "") return "—";
  if (field === "birth_date") return date(raw);
  if (field === "sex" && has(`sex.${raw}`)) return t(`sex.${raw}`);
  if (field === "status" && has(`record.${raw}`)) return t(`record.${raw}`);
  return String(raw);
}

function fullName(person) {
  return [person.given_name, person.father_name, person.grandfather_name].filter(Boolean).join(" ");
}

// The reasons of the score (`reasons` of GET /duplicates/{id}): each piece of evidence, which
// field and how it compared, and whether it counts for or against the same person.
function reasons(raw) {
  const entries = reasonEntries(raw);
  return h(
    "section",
    { class: "reasons", "aria-labelledby": "reasons-title" },
    h("h3", { id: "reasons-title" }, t("dup.reasons")),
    raw && raw.ruled_out ? h("p", { class: "ruled-out" }, t("dup.ruledOut")) : null,
    entries.length
      ? h("dl", {}, entries.map(([label, text]) => [h("dt", {}, label), h("dd", {}, text)]))
      : h("p", {}, t("dup.noReasons")),
  );
}

export function reasonEntries(raw) {
  if (!raw || !Array.isArray(raw.evidence)) return [];
  return raw.evidence.map((item) => {
    const detail = item.types ? ` (${item.types.join(", ")})` : item.count ? ` (${item.count})` : "";
    const side = item.weight > 0 ? "reason.for" : item.weight < 0 ? "reason.against" : null;
    const finding = named(`finding.${item.finding}`, item.finding) + detail;
    return [named(`field.${item.field}`, item.field), side ? `${finding} — ${t(side)}` : finding];
  });
}

// A label the dictionaries have, or the API's own code made readable (a new finding).
function named(key, code) {
  return has(key) ? t(key) : String(code).replace(/_/g, " ");
}

function decisionForm() {
  const note = h("textarea", { id: "resolution-note", name: "note", rows: "2", maxlength: "1000" });
  const keep = (which, label) =>
    h(
      "label",
      { class: "choice" },
      h("input", { type: "radio", name: "keep", value: which, checked: which === "candidate" }),
      t(label),
    );
  const form = h(
    "form",
    { class: "decision", "aria-labelledby": "decision-title" },
    h("h3", { id: "decision-title" }, t("dup.decide")),
    h("fieldset", {}, h("legend", {}, t("dup.keep")), keep("candidate", "dup.keepCandidate"), keep("individual", "dup.keepIndividual")),
    h("label", { for: "resolution-note" }, t("dup.note")),
    note,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "secondary", id: "not-duplicate", onclick: () => submit("not_duplicate") }, t("dup.notDuplicate")),
      h("button", { type: "button", class: "primary", id: "merge", onclick: () => submit("merge") }, t("dup.merge")),
    ),
  );
  const submit = (decision) => {
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    const kept = form.querySelector("input[name=keep]:checked")?.value ?? "candidate";
    resolve(decision, kept, note.value.trim());
  };
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

export const duplicates = { open, draw };
