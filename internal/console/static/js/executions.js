// The executions list: filters (function, status, name, start time), keyset
// paging with Duro's cross-function listing, and a live refresh of the page
// on screen.
import { h, replace } from "./dom.js";
import { listExecutions, listFunctions } from "./api.js";
import { badge, duration, fmtDuration, fmtTime, toMillis } from "./format.js";
import { poll } from "./live.js";

export const STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED"];
const PAGE_SIZE = 50;

/** executionLink is a link to an execution's page. */
export const executionLink = (arn, text) => h("a", { href: `#/executions/${encodeURIComponent(arn)}`, text });

/** functionLink is a link to a function's page. */
export const functionLink = (name) => h("a", { href: `#/functions/${encodeURIComponent(name)}`, text: name });

/** executionRows renders listing items as table rows. */
export function executionRows(items, { showFunction = true } = {}) {
  return items.map((x) => {
    const start = toMillis(x.StartTimestamp);
    const end = toMillis(x.EndTimestamp);
    return h("tr", { class: "exec-row", dataset: { arn: x.DurableExecutionArn } },
      h("td", {}, badge(x.Status)),
      h("td", { class: "name" }, executionLink(x.DurableExecutionArn, x.DurableExecutionName)),
      showFunction && h("td", {}, functionLink(x.FunctionName), h("span", { class: "muted", text: ` : ${x.FunctionVersion}` })),
      h("td", { class: "time", text: fmtTime(start) }),
      h("td", { class: "num", text: fmtDuration(duration(start, end)) }));
  });
}

/** executionTable is an empty listing table; fill its tbody with executionRows. */
export function executionTable({ showFunction = true } = {}) {
  const tbody = h("tbody");
  const table = h("table", { class: "list" },
    h("thead", {}, h("tr", {},
      h("th", { text: "Status" }), h("th", { text: "Name" }),
      showFunction && h("th", { text: "Function" }),
      h("th", { text: "Started" }), h("th", { class: "num", text: "Duration" }))),
    tbody);
  return { table, tbody };
}

/** localMillis turns a datetime-local value into epoch milliseconds. */
const localMillis = (v) => (v ? new Date(v).getTime() : undefined);

export function executionsPage(main, q) {
  const filter = {
    function: q.get("function") ?? "",
    status: q.get("status") ?? "",
    name: q.get("name") ?? "",
    after: q.get("after") ?? "",
    before: q.get("before") ?? "",
  };

  const fnSelect = h("select", { name: "function" }, h("option", { value: "", text: "All functions" }));
  if (filter.function) fnSelect.append(h("option", { value: filter.function, text: filter.function }));
  fnSelect.value = filter.function;
  listFunctions().then((fns) => {
    for (const f of fns) {
      if (f.FunctionName !== filter.function) fnSelect.append(h("option", { value: f.FunctionName, text: f.FunctionName }));
    }
  }).catch((err) => console.error("list functions:", err));

  const statusSelect = h("select", { name: "status" },
    h("option", { value: "", text: "Any status" }),
    STATUSES.map((s) => h("option", { value: s, text: s })));
  statusSelect.value = filter.status;
  const nameInput = h("input", { type: "search", name: "name", placeholder: "exact name", value: filter.name });
  const afterInput = h("input", { type: "datetime-local", name: "after", step: "1", value: filter.after });
  const beforeInput = h("input", { type: "datetime-local", name: "before", step: "1", value: filter.before });

  const form = h("form", { class: "filters", onsubmit: (e) => {
    e.preventDefault();
    const nq = new URLSearchParams();
    for (const [k, el] of [["function", fnSelect], ["status", statusSelect], ["name", nameInput], ["after", afterInput], ["before", beforeInput]]) {
      if (el.value) nq.set(k, el.value.trim());
    }
    const hash = `#/executions${nq.size ? "?" + nq : ""}`;
    if (location.hash === hash) restart();
    else location.hash = hash;
  } },
    h("label", {}, "Function", fnSelect),
    h("label", {}, "Status", statusSelect),
    h("label", {}, "Name", nameInput),
    h("label", {}, "Started after", afterInput),
    h("label", {}, "Started before", beforeInput),
    h("div", { class: "buttons" },
      h("button", { type: "submit", class: "primary", text: "Apply" }),
      h("a", { class: "button", href: "#/executions", text: "Clear" })));

  const { table, tbody } = executionTable();
  const status = h("p", { class: "muted small" });
  const newer = h("button", { type: "button", text: "← Newer", onclick: () => go(page - 1) });
  const older = h("button", { type: "button", text: "Older →", onclick: () => go(page + 1) });
  const pageLabel = h("span", { class: "muted" });

  replace(main,
    h("h1", { text: "Executions" }),
    form,
    h("div", { class: "card flush" }, table),
    h("div", { class: "pager" }, newer, pageLabel, older, status));

  // markers[i] is the cursor of page i ("" for the first page).
  let markers = [""];
  let page = 0;
  let seq = 0;

  async function load() {
    const mine = ++seq;
    const list = await listExecutions({
      function: filter.function, status: filter.status, name: filter.name,
      startedAfter: localMillis(filter.after), startedBefore: localMillis(filter.before),
      marker: markers[page], limit: PAGE_SIZE,
    });
    if (mine !== seq) return;
    markers = markers.slice(0, page + 1);
    if (list.NextMarker) markers.push(list.NextMarker);
    const rows = executionRows(list.Executions);
    replace(tbody, rows.length ? rows : h("tr", {}, h("td", { colspan: 5, class: "empty", text: "No executions match." })));
    newer.disabled = page === 0;
    older.disabled = !list.NextMarker;
    pageLabel.textContent = `Page ${page + 1}`;
    status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  function showError(err) {
    status.textContent = "";
    replace(tbody, h("tr", {}, h("td", { colspan: 5, class: "error", text: `Could not list executions: ${err.message}` })));
  }

  function go(p) {
    page = Math.max(0, p);
    load().catch(showError);
  }

  function restart() {
    markers = [""];
    go(0);
  }

  go(0);
  return poll(load, 2000);
}
