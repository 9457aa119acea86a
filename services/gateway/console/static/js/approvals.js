// Payment approval, for finance approvers: the payrolls built and waiting (drafts), each with
// its totals by region and the balance of the agreement it is charged to; approve it. The
// API refuses a payroll's creator (four eyes) and a payroll the agreement cannot pay: the
// page shows the API's reason. Finance officers cancel a draft and approvers refuse one,
// with a reason.
import { announce, h, message, show } from "./dom.js";
import { money, number } from "./format.js";
import { has, t } from "./i18n.js";
import { api, ApiError, hasRole, idempotencyKey } from "./session.js";

const FUNDING = "api/v1/funding";
const PAGE_SIZE = 200;
const MAX_PAGES = 5;

const state = { container: null, cycles: [], details: new Map(), outcomes: new Map(), error: null };

async function loadWaiting() {
  const cycles = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ status: "draft", limit: String(PAGE_SIZE) });
    if (cursor) query.set("cursor", cursor);
    const answer = await api(`${FUNDING}/payment-cycles?${query}`);
    cycles.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return cycles.filter((cycle) => cycle.build.status === "built" && cycle.lines_count > 0);
}

async function loadDetail(cycle) {
  const [summary, balance, agreement] = await Promise.all([
    api(`${FUNDING}/payment-cycles/${cycle.id}/summary`),
    api(`${FUNDING}/agreements/${cycle.agreement_id}/balance`),
    api(`${FUNDING}/agreements/${cycle.agreement_id}`),
  ]);
  return { summary, balance, agreement };
}

async function open(container) {
  state.container = container;
  state.error = null;
  show(container, h("h1", { tabindex: "-1" }, t("pay.title")), message("info", t("common.loading")));
  try {
    const waiting = await loadWaiting();
    // Cycles acted on here stay shown, in their new state, until the page is left.
    const acted = state.cycles.filter((c) => state.outcomes.has(c.id) && !waiting.some((w) => w.id === c.id));
    state.cycles = [...waiting, ...acted];
    const details = await Promise.all(state.cycles.map(loadDetail));
    state.details = new Map(state.cycles.map((cycle, i) => [cycle.id, details[i]]));
  } catch (error) {
    state.error = error;
  }
  draw();
}

async function act(cycle, action, body) {
  let outcome;
  try {
    const updated = await api(`${FUNDING}/payment-cycles/${cycle.id}/${action}`, {
      method: "POST",
      headers: { "Idempotency-Key": idempotencyKey() },
      body,
    });
    Object.assign(cycle, updated);
    const key = action === "approve" ? "pay.approved" : "pay.cancelled";
    outcome = { kind: "success", key, params: { reference: cycle.reference } };
  } catch (error) {
    const detail = error instanceof ApiError ? error.message : String(error);
    outcome = { kind: "error", key: action === "approve" ? "pay.refused" : "common.error", params: { detail } };
    // Someone else may have acted on it meanwhile: show it as it is now.
    Object.assign(cycle, await api(`${FUNDING}/payment-cycles/${cycle.id}`).catch(() => ({})));
  }
  // What the agreement holds may have changed for every payroll charged to it.
  const sharing = state.cycles.filter((c) => c.agreement_id === cycle.agreement_id);
  const details = await Promise.all(sharing.map((c) => loadDetail(c).catch(() => state.details.get(c.id))));
  sharing.forEach((c, i) => state.details.set(c.id, details[i]));
  state.outcomes.set(cycle.id, outcome);
  draw();
  announce(t(outcome.key, outcome.params));
  state.container.querySelector(`[data-cycle="${cycle.id}"] .outcome`)?.focus();
}

function draw() {
  const { container } = state;
  if (!container) return;
  const heading = h("h1", { tabindex: "-1" }, t("pay.title"));
  if (state.error) {
    const forbidden = state.error instanceof ApiError && state.error.status === 403;
    show(container, heading, message("error", forbidden ? t("common.forbidden") : t("common.error", { detail: state.error.message })));
    return;
  }
  show(
    container,
    heading,
    h("p", {}, state.cycles.length ? t("pay.intro") : t("pay.none")),
    h("div", { class: "cycles" }, state.cycles.map(card)),
  );
}

function card(cycle) {
  const { summary, balance, agreement } = state.details.get(cycle.id);
  const outcome = state.outcomes.get(cycle.id);
  const titleId = `cycle-${cycle.id}`;
  return h(
    "article",
    { class: "panel cycle", "data-cycle": cycle.id, "data-status": cycle.status, "aria-labelledby": titleId },
    h("h2", { id: titleId }, t("pay.cycle", { reference: cycle.reference })),
    facts([
      ["pay.programme", cycle.programme],
      ["pay.period", cycle.period],
      ["pay.lines", number(cycle.lines_count)],
      ["pay.total", money(cycle.total)],
      ["pay.createdBy", cycle.created_by.replace(/^user:/, "")],
      ["pay.status", has(`cycle.${cycle.status}`) ? t(`cycle.${cycle.status}`) : cycle.status],
    ]),
    h("h3", {}, t("pay.byRegion")),
    h(
      "table",
      { class: "regions" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("pay.region")), h("th", { scope: "col", class: "number" }, t("pay.lines")), h("th", { scope: "col", class: "number" }, t("pay.amount")))),
      h(
        "tbody",
        {},
        summary.by_region.map((region) =>
          h("tr", { "data-region": region.region_code }, h("th", { scope: "row" }, region.region_code), h("td", { class: "number" }, number(region.lines)), h("td", { class: "number" }, money(region.amount))),
        ),
      ),
    ),
    h("h3", {}, `${t("pay.balance")} — ${agreement.reference}`),
    facts(
      [
        ["pay.committed", money(balance.committed)],
        ["pay.received", money(balance.received)],
        ["pay.reserved", money(balance.reserved)],
        ["pay.paid", money(balance.paid)],
        ["pay.available", money(balance.available)],
      ],
      "balance",
    ),
    h("div", { class: "outcome", tabindex: "-1" }, outcome ? message(outcome.kind, t(outcome.key, outcome.params)) : null),
    cycle.status === "draft" ? actions(cycle) : null,
  );
}

function facts(rows, name = "facts") {
  return h("dl", { class: name }, rows.map(([key, text]) => h("div", { "data-fact": key.split(".")[1] }, h("dt", {}, t(key)), h("dd", {}, text))));
}

function actions(cycle) {
  const parts = [];
  if (hasRole("finance_approver")) {
    parts.push(
      h("div", { class: "actions" }, h("button", { type: "button", class: "primary approve", onclick: (event) => { event.currentTarget.disabled = true; act(cycle, "approve"); } }, t("pay.approve"))),
    );
  }
  if (hasRole("finance_officer", "admin", "finance_approver")) {
    // An approver refuses a payroll the way an officer cancels it: with the reason.
    const refusing = !hasRole("finance_officer", "admin");
    const reasonId = `reason-${cycle.id}`;
    const reason = h("textarea", { id: reasonId, rows: "2", maxlength: "500", required: true });
    const form = h(
      "form",
      { class: "cancel" },
      h("label", { for: reasonId }, t(refusing ? "pay.refuseReason" : "pay.cancelReason")),
      reason,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, t(refusing ? "pay.refuse" : "pay.cancel"))),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!reason.value.trim()) return reason.focus();
      act(cycle, "cancel", { reason: reason.value.trim() });
    });
    parts.push(form);
  }
  return parts;
}

export const approvals = { open, draw };
