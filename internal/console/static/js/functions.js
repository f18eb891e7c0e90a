// The functions pages: every registered function with its durable
// configuration, and one function's configuration, versions and recent
// executions.
import { h, replace } from "./dom.js";
import * as api from "./api.js";
import { executionRows, executionTable, functionLink } from "./executions.js";
import { poll } from "./live.js";

/** durableText summarises a DurableConfig. */
function durableText(dc) {
  if (!dc) return "not durable";
  const parts = [];
  if (dc.ExecutionTimeout) parts.push(`timeout ${dc.ExecutionTimeout} s`);
  if (dc.RetentionPeriodInDays) parts.push(`retention ${dc.RetentionPeriodInDays} d`);
  return parts.length ? parts.join(", ") : "durable (defaults)";
}

const error = (what, err) => h("p", { class: "error", text: `${what}: ${err.message}` });

export function functionsPage(main) {
  const body = h("div", { class: "card flush" }, h("p", { class: "muted pad", text: "Loading…" }));
  replace(main, h("h1", { text: "Functions" }), body);
  api.listFunctions().then((fns) => {
    if (!fns.length) return replace(body, h("p", { class: "muted pad", text: "No functions are registered." }));
    replace(body, h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["Name", "Runtime", "Durable", "Timeout", "Memory", "Last modified", "Description", ""]
        .map((t) => h("th", { text: t })))),
      h("tbody", {}, fns.map((f) => h("tr", { class: "fn-row" },
        h("td", { class: "name" }, functionLink(f.FunctionName)),
        h("td", { text: f.Runtime ?? "" }),
        h("td", { text: durableText(f.DurableConfig) }),
        h("td", { class: "num", text: `${f.Timeout} s` }),
        h("td", { class: "num", text: `${f.MemorySize} MB` }),
        h("td", { class: "time", text: f.LastModified ?? "" }),
        h("td", { class: "desc", text: f.Description ?? "" }),
        h("td", {}, h("a", { href: `#/executions?function=${encodeURIComponent(f.FunctionName)}`, text: "executions →" })))))));
  }).catch((err) => replace(body, error("Could not list functions", err)));
}

export function functionPage(main, name) {
  const config = h("section", { class: "card" }, h("p", { class: "muted", text: "Loading…" }));
  const versions = h("section", { class: "card flush" });
  const { table, tbody } = executionTable({ showFunction: false });
  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/functions", text: "Functions" }), " › ", h("span", { text: name })),
    h("h1", { text: name }),
    config,
    h("h2", { text: "Versions" }), versions,
    h("h2", {}, "Recent executions ",
      h("a", { class: "small", href: `#/executions?function=${encodeURIComponent(name)}`, text: "all →" })),
    h("div", { class: "card flush" }, table));

  api.getFunction(name).then(({ Configuration: c }) => {
    const env = Object.entries(c.Environment?.Variables ?? {});
    const rows = [
      ["ARN", c.FunctionArn], ["Runtime", c.Runtime], ["Handler", c.Handler],
      ["Durable", durableText(c.DurableConfig)], ["Timeout", `${c.Timeout} s`], ["Memory", `${c.MemorySize} MB`],
      ["State", c.State], ["Last modified", c.LastModified], ["Code SHA-256", c.CodeSha256], ["Description", c.Description],
    ].filter(([, v]) => v);
    replace(config, h("dl", { class: "meta" },
      rows.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]),
      env.length > 0 && [h("dt", { text: "Environment" }), h("dd", {}, h("code", { text: env.map(([k, v]) => `${k}=${v}`).join("\n") }))]));
  }).catch((err) => replace(config, error("Could not read the function", err)));

  api.listVersions(name).then((vs) => {
    replace(versions, h("table", { class: "list" },
      h("thead", {}, h("tr", {}, ["Version", "Durable", "Last modified", "Code SHA-256", "Description"].map((t) => h("th", { text: t })))),
      h("tbody", {}, vs.map((v) => h("tr", {},
        h("td", { text: v.Version }), h("td", { text: durableText(v.DurableConfig) }),
        h("td", { class: "time", text: v.LastModified ?? "" }), h("td", {}, h("code", { text: (v.CodeSha256 ?? "").slice(0, 16) })),
        h("td", { class: "desc", text: v.Description ?? "" }))))));
  }).catch((err) => replace(versions, error("Could not list versions", err)));

  const load = async () => {
    const list = await api.listExecutions({ function: name, limit: 20 });
    replace(tbody, list.Executions.length
      ? executionRows(list.Executions, { showFunction: false })
      : h("tr", {}, h("td", { colspan: 4, class: "empty", text: "No executions yet." })));
  };
  load().catch((err) => replace(tbody, h("tr", {}, h("td", { colspan: 4, class: "error", text: err.message }))));
  return poll(load, 2000);
}
