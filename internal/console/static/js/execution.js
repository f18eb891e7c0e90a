// The execution page: status, input and result, pending callbacks (which
// can be completed from here), the operation tree, a timeline, the raw
// history and the logs. It refreshes every 2 s until the execution ends.
import { h, replace, section } from "./dom.js";
import * as api from "./api.js";
import { badge, code, duration, errorText, fmtDuration, fmtTime, pretty, toMillis } from "./format.js";
import { functionLink } from "./executions.js";
import { poll } from "./live.js";

/** functionName extracts the unqualified name from a function ARN. */
const functionName = (arn) => (arn ?? "").split(":")[6] ?? "";

export function executionPage(main, arn) {
  const el = {
    notice: h("div", { class: "notice", hidden: true }),
    head: h("section", { class: "card head" }),
    io: h("section", { class: "io" }),
    callbacks: h("section", { class: "callbacks" }),
    tree: h("section", { class: "card tree" }),
    timeline: h("section", { class: "card timeline" }),
    history: h("section", { class: "card flush history" }),
    logs: h("pre", { class: "code logs", text: "" }),
  };
  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/executions", text: "Executions" }), " › ", h("span", { class: "arn", text: arn })),
    el.notice, el.head, el.io, el.callbacks,
    h("h2", { text: "Operations" }), el.tree,
    h("h2", { text: "Timeline" }), el.timeline,
    h("h2", { text: "History" }), el.history,
    h("h2", { text: "Logs" }), el.logs);

  const open = new Set(); // operation ids whose details are expanded
  let logToken = "";
  let logLines = 0;
  let ended = 0;

  function notify(text, kind = "info") {
    el.notice.hidden = false;
    el.notice.className = `notice ${kind}`;
    el.notice.textContent = text;
  }

  async function refresh() {
    const [exec, ops, events] = await Promise.all([api.getExecution(arn), api.getOperations(arn), api.getHistory(arn)]);
    const running = exec.Status === "RUNNING";
    const tick = running ? Math.floor(Date.now() / 1000) : "";
    section(el.head, JSON.stringify([exec, tick]), () => header(exec, act));
    section(el.io, JSON.stringify([exec.InputPayload, exec.Result, exec.Error, exec.Status]), () => inputOutput(exec));
    const pending = ops.filter((o) => o.Type === "CALLBACK" && o.Status === "STARTED");
    section(el.callbacks, JSON.stringify(pending.map((o) => o.Id)), () => pending.map((o) => callbackForm(o, act)));
    section(el.tree, JSON.stringify([ops, tick]), () => operationTree(ops, open, exec.DurableExecutionName));
    section(el.timeline, JSON.stringify([ops, events.length, tick]), () => timeline(exec, ops, events));
    section(el.history, String(events.length), () => historyTable(events));
    await refreshLogs();
    // One more round after the end picks up late log lines.
    return running || ++ended < 2;
  }

  async function refreshLogs() {
    try {
      const page = await api.logs(arn, logToken);
      for (const l of page.Logs) {
        el.logs.append(`${fmtTime(l.Timestamp)}  ${l.Stream.padEnd(6)} ${l.Message}\n`);
        logLines++;
      }
      logToken = page.NextToken;
      if (logLines === 0) el.logs.textContent = "No log lines captured for this execution.";
      else if (el.logs.firstChild?.nodeValue?.startsWith("No log lines")) el.logs.firstChild.remove();
    } catch (err) {
      el.logs.textContent = `Logs unavailable: ${err.message}`;
    }
  }

  /** act runs a user action, reports its outcome and refreshes at once. */
  async function act(what, fn) {
    try {
      await fn();
      notify(`${what}: done.`, "ok");
    } catch (err) {
      notify(`${what} failed: ${err.message}`, "error");
      return false;
    }
    ended = 0;
    await refresh().catch(() => {});
    return true;
  }

  // Poll only once the first load worked, and never after the page is gone.
  let stop = () => {};
  let gone = false;
  refresh().then((again) => {
    if (again && !gone) stop = poll(refresh, 2000);
  }).catch((err) => {
    notify(`Could not load the execution: ${err.message}`, "error");
  });
  return () => {
    gone = true;
    stop();
  };
}

/** header shows the execution's identity, status and times, and Stop. */
function header(exec, act) {
  const start = toMillis(exec.StartTimestamp);
  const end = toMillis(exec.EndTimestamp);
  const fn = functionName(exec.FunctionArn);
  const stop = exec.Status === "RUNNING" && h("button", { type: "button", class: "danger stop", text: "Stop execution",
    onclick: async (e) => {
      if (!confirm(`Stop execution ${exec.DurableExecutionName}?`)) return;
      e.target.disabled = true;
      await act("Stop", () => api.stopExecution(exec.DurableExecutionArn));
    } });
  return [
    h("div", { class: "title" },
      h("h1", { text: exec.DurableExecutionName }),
      h("span", { class: "exec-status" }, badge(exec.Status)),
      h("div", { class: "actions" }, stop)),
    h("dl", { class: "meta" },
      h("dt", { text: "ARN" }), h("dd", {}, h("code", { text: exec.DurableExecutionArn })),
      h("dt", { text: "Function" }), h("dd", {}, functionLink(fn), h("span", { class: "muted", text: ` : ${exec.Version ?? ""}` })),
      h("dt", { text: "Started" }), h("dd", { text: fmtTime(start) }),
      h("dt", { text: "Ended" }), h("dd", { text: fmtTime(end) }),
      h("dt", { text: "Duration" }), h("dd", { text: fmtDuration(duration(start, end)) }),
      exec.TraceHeader?.XAmznTraceId && [h("dt", { text: "Trace" }), h("dd", {}, h("code", { text: exec.TraceHeader.XAmznTraceId }))]),
  ];
}

/** inputOutput shows the input next to the result or the error. */
function inputOutput(exec) {
  let out;
  if (exec.Error) {
    out = h("div", { class: "card" }, h("h3", { text: "Error" }),
      h("p", { class: "error", text: errorText(exec.Error) }), code(exec.Error));
  } else if (exec.Status === "SUCCEEDED") {
    out = h("div", { class: "card" }, h("h3", { text: "Result" }), code(exec.Result ?? "(none)", "result"));
  } else {
    out = h("div", { class: "card" }, h("h3", { text: "Result" }), h("p", { class: "muted", text: "Not finished yet." }));
  }
  return [h("div", { class: "card" }, h("h3", { text: "Input" }), code(exec.InputPayload ?? "(none)", "input")), out];
}

/** callbackForm completes a pending callback with a result or an error. */
function callbackForm(op, act) {
  const id = op.CallbackDetails?.CallbackId ?? "";
  const payload = h("textarea", { class: "payload", rows: 4, spellcheck: "false", placeholder: '{"approved": true}' });
  const errType = h("input", { type: "text", class: "err-type", placeholder: "Error type, e.g. Rejected" });
  const errMsg = h("input", { type: "text", class: "err-message", placeholder: "Error message" });
  const problem = h("p", { class: "error small", hidden: true });
  const buttons = [];
  const send = async (what, fn) => {
    problem.hidden = true;
    buttons.forEach((b) => (b.disabled = true));
    if (!(await act(what, fn))) buttons.forEach((b) => (b.disabled = false));
  };
  const success = h("button", { type: "button", class: "primary send-success", text: "Send success", onclick: () => {
    const body = payload.value.trim();
    if (body) {
      try {
        JSON.parse(body);
      } catch (err) {
        problem.textContent = `The result is not valid JSON: ${err.message}`;
        problem.hidden = false;
        return;
      }
    }
    send("Callback success", () => api.callbackSuccess(id, body));
  } });
  const failure = h("button", { type: "button", class: "danger send-failure", text: "Send failure",
    onclick: () => send("Callback failure", () => api.callbackFailure(id, errType.value.trim(), errMsg.value.trim())) });
  buttons.push(success, failure);
  return h("div", { class: "card callback", dataset: { operation: op.Id } },
    h("h3", {}, "Pending callback ", h("span", { class: "op-name", text: op.Name ?? op.Id })),
    h("p", { class: "small" }, "Callback id ", h("code", { class: "callback-id", text: id })),
    h("div", { class: "cb-forms" },
      h("div", {}, h("label", {}, "Result (JSON)", payload), success),
      h("div", {}, h("label", {}, "Error type", errType), h("label", {}, "Error message", errMsg), failure)),
    problem);
}

/** children groups operations by parent: top-level ones under the EXECUTION operation. */
function childrenOf(ops) {
  const byId = new Map(ops.map((o) => [o.Id, o]));
  const root = ops.find((o) => o.Type === "EXECUTION");
  const kids = new Map();
  for (const o of ops) {
    if (o === root) continue;
    const parent = o.ParentId && byId.has(o.ParentId) ? o.ParentId : root?.Id ?? "";
    if (!kids.has(parent)) kids.set(parent, []);
    kids.get(parent).push(o);
  }
  return { root, kids };
}

/**
 * operationTree nests operations by ParentId, with status, attempts and
 * timing; the EXECUTION operation, at the root, is labelled with the
 * execution's name.
 */
function operationTree(ops, open, executionName) {
  if (!ops.length) return h("p", { class: "muted", text: "No operations yet." });
  const { root, kids } = childrenOf(ops);
  const node = (o) => {
    const start = toMillis(o.StartTimestamp);
    const end = toMillis(o.EndTimestamp);
    const attempts = o.StepDetails ? (o.StepDetails.Attempt ?? 0) + (o.Status === "STARTED" ? 1 : 0) : null;
    const details = h("details", { open: open.has(o.Id) || undefined,
      ontoggle: (e) => (e.target.open ? open.add(o.Id) : open.delete(o.Id)) },
      h("summary", { class: "op-row" },
        h("span", { class: `type t-${o.Type.toLowerCase()}`, text: o.Type }),
        h("span", { class: "op-name", text: o.Type === "EXECUTION" ? executionName : o.Name ?? o.Id }),
        o.SubType && h("span", { class: "sub", text: o.SubType }),
        badge(o.Status),
        attempts !== null && h("span", { class: "attempts", text: `${attempts} attempt${attempts === 1 ? "" : "s"}` }),
        h("span", { class: "time", text: fmtTime(start) }),
        h("span", { class: "dur", text: fmtDuration(duration(start, end)) })),
      operationDetails(o));
    const children = kids.get(o.Id) ?? [];
    return h("li", { class: "op", dataset: { id: o.Id } }, details,
      children.length > 0 && h("ul", {}, children.map(node)));
  };
  const tops = root ? [root] : kids.get("") ?? [];
  return h("ul", { class: "optree" }, tops.map(node));
}

/** operationDetails lists an operation's ids, times and outcome. */
function operationDetails(o) {
  const d = o.StepDetails ?? o.ContextDetails ?? o.CallbackDetails ?? o.ChainedInvokeDetails ?? {};
  const rows = [
    ["Id", o.Id], ["Parent", o.ParentId], ["Started", fmtTime(toMillis(o.StartTimestamp))],
    ["Ended", o.EndTimestamp && fmtTime(toMillis(o.EndTimestamp))],
    ["Callback id", o.CallbackDetails?.CallbackId],
    ["Wait until", o.WaitDetails?.ScheduledEndTimestamp && fmtTime(toMillis(o.WaitDetails.ScheduledEndTimestamp))],
    ["Next attempt", o.StepDetails?.NextAttemptTimestamp && fmtTime(toMillis(o.StepDetails.NextAttemptTimestamp))],
  ].filter(([, v]) => v);
  return h("div", { class: "op-detail" },
    h("dl", { class: "meta" }, rows.map(([k, v]) => [h("dt", { text: k }), h("dd", {}, h("code", { text: v }))])),
    o.ExecutionDetails?.InputPayload && [h("h4", { text: "Input" }), code(o.ExecutionDetails.InputPayload)],
    d.Result !== undefined && [h("h4", { text: "Result" }), code(d.Result)],
    d.Error && [h("h4", { text: "Error" }), h("p", { class: "error", text: errorText(d.Error) }), code(d.Error)]);
}

/**
 * timeline draws each operation and each completed invocation as a bar
 * against wall-clock time, from the execution's start to its end (or now).
 */
function timeline(exec, ops, events) {
  const t0 = toMillis(exec.StartTimestamp);
  const { root, kids } = childrenOf(ops);
  const rows = [];
  const walk = (parent, depth) => {
    for (const o of kids.get(parent) ?? []) {
      const start = toMillis(o.StartTimestamp);
      let end = toMillis(o.EndTimestamp);
      let planned = false;
      if (end === null && o.WaitDetails?.ScheduledEndTimestamp) {
        end = toMillis(o.WaitDetails.ScheduledEndTimestamp);
        planned = true;
      }
      rows.push({ label: o.Name ?? o.Id, kind: o.Type.toLowerCase(), status: o.Status, start, end, planned, depth });
      walk(o.Id, depth + 1);
    }
  };
  walk(root?.Id ?? "", 0);
  let n = 0;
  for (const ev of events) {
    const d = ev.InvocationCompletedDetails;
    if (!d) continue;
    rows.push({ label: `invocation ${++n}`, kind: "invocation", status: d.Error ? "FAILED" : "SUCCEEDED",
      start: toMillis(d.StartTimestamp), end: toMillis(d.EndTimestamp), depth: 0, title: d.RequestId });
  }
  if (!rows.length) return h("p", { class: "muted", text: "Nothing to draw yet." });
  rows.sort((a, b) => a.start - b.start);
  const now = Date.now();
  const t1 = Math.max(toMillis(exec.EndTimestamp) ?? now, ...rows.map((r) => r.end ?? now));
  const span = Math.max(t1 - t0, 1);
  const pct = (t) => `${(100 * (t - t0)) / span}%`;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    h("span", { class: "tick", style: { left: `${f * 100}%` }, text: `+${fmtDuration(f * span)}` }));
  return [
    h("div", { class: "tl-row tl-axis" }, h("div", { class: "tl-label" }), h("div", { class: "tl-track" }, ticks)),
    rows.map((r) => {
      const end = r.end ?? now;
      const tip = `${r.label} · ${r.status} · ${fmtTime(r.start)} → ${r.end ? fmtTime(r.end) : "now"} (${fmtDuration(end - r.start)})${r.title ? " · " + r.title : ""}`;
      return h("div", { class: `tl-row k-${r.kind}` },
        h("div", { class: "tl-label", style: { paddingLeft: `${0.4 + r.depth * 1.1}rem` }, title: tip },
          h("span", { class: `type t-${r.kind}`, text: r.kind === "chained_invoke" ? "invoke" : r.kind }), " ", r.label),
        h("div", { class: "tl-track" },
          h("div", { class: `tl-bar s-${r.status.toLowerCase()}${r.end === null ? " open" : ""}${r.planned ? " planned" : ""}`,
            title: tip, style: { left: pct(r.start), width: `max(3px, calc(${pct(end)} - ${pct(r.start)}))` } })));
    }),
  ];
}

/** eventDetails returns an event's *Details member. */
const eventDetails = (ev) => Object.entries(ev).find(([k]) => k.endsWith("Details"))?.[1];

/** historyTable lists the raw history events, each with its details as JSON. */
function historyTable(events) {
  if (!events.length) return h("p", { class: "muted", text: "No events." });
  const t0 = toMillis(events[0].EventTimestamp);
  return h("table", { class: "list events" },
    h("thead", {}, h("tr", {}, ["#", "Time", "Event", "Operation", "Details"].map((t) => h("th", { text: t })))),
    h("tbody", {}, events.map((ev) => {
      const d = eventDetails(ev);
      const json = d ? pretty(d) : "";
      const short = d ? JSON.stringify(d) : "";
      const outcome = /Failed|TimedOut|Stopped|Cancelled/.test(ev.EventType) ? "bad" : /Succeeded/.test(ev.EventType) ? "good" : "";
      return h("tr", { class: "event" },
        h("td", { class: "num", text: ev.EventId }),
        h("td", { class: "time", title: fmtTime(toMillis(ev.EventTimestamp)), text: `+${fmtDuration(toMillis(ev.EventTimestamp) - t0)}` }),
        h("td", {}, h("span", { class: `evtype ${outcome}`, text: ev.EventType })),
        h("td", {}, h("span", { text: ev.Name ?? ev.Id ?? "" }), ev.SubType && h("span", { class: "sub", text: ev.SubType })),
        h("td", { class: "details" }, short && short !== "{}" &&
          h("details", {}, h("summary", { text: short.length > 90 ? short.slice(0, 90) + "…" : short }), h("pre", { class: "code", text: json }))));
    })));
}
