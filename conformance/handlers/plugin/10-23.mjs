// 10-23: context-typed hook info shape. parallel "ctx", max-concurrency 1, with
// named branches: "branch-a" runs step "inner" (returns "x"), waits 2 s and
// returns "a-done"; "branch-b" returns "b-done". The plugin, for CONTEXT
// operations, logs a canonical camelCase dump of each hook's own info: on
// operation-start and on fn-start (the user-function wrapper of a context).
// For fn-start, isReplayingChildren is the wrapper info's children-replay
// indicator: the JS SDK exposes it as the wrapper info's isReplay (the child
// function runs in a replay mode, so its checkpointed children replay).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin, isoTimestamp } from "./lib/records.mjs";

function dumpOperation(info) {
  const out = {
    id: info.id,
    name: info.name,
    type: info.type,
    subType: info.subType,
    parentId: info.parentId,
    status: info.status,
    startTimestamp: isoTimestamp(info.startTimestamp),
    endTimestamp: isoTimestamp(info.endTimestamp),
    result: info.result,
    error: info.error?.message,
    attempt: info.attempt,
  };
  for (const key of Object.keys(out)) if (out[key] === undefined || out[key] === null) delete out[key];
  return out;
}

class ContextShapePlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  async onOperationStart(info) {
    if (info.type !== "CONTEXT") return;
    this.log("operation-start", { ...dumpOperation(info), isReplay: info.isReplay });
  }
  wrapChildContextFn(info, fn) {
    if (info.type === "CONTEXT") {
      this.log("fn-start", { ...dumpOperation(info), isReplayingChildren: info.isReplay });
    }
    return fn();
  }
}

export const handler = withDurableExecution(
  async (_event, context) => {
    const batch = await context.parallel(
      "ctx",
      [
        {
          name: "branch-a",
          func: async (ctx) => {
            await ctx.step("inner", async () => "x");
            await ctx.wait({ seconds: 2 });
            return "a-done";
          },
        },
        { name: "branch-b", func: async () => "b-done" },
      ],
      { maxConcurrency: 1 },
    );
    return batch.getResults();
  },
  { plugins: [new ContextShapePlugin()] },
);
