// 10-12: user-function hooks for parallel branches. parallel "parallel" with two
// branches returning "task-1" and "task-2", max-concurrency 1. The plugin wraps
// the user function of parallel-branch operations and logs fn-start and fn-end
// (outcome) with the branch id and its parent id (or NONE).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class BranchFnPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  wrapChildContextFn(info, fn) {
    if (info.subType !== "ParallelBranch") return fn();
    const ids = { op: info.id, parent: info.parentId ?? "NONE" };
    this.log("fn-start", ids);
    return (async () => {
      try {
        const result = await fn();
        this.log("fn-end", { ...ids, outcome: "SUCCEEDED" });
        return result;
      } catch (error) {
        this.log("fn-end", { ...ids, outcome: "FAILED" });
        throw error;
      }
    })();
  }
}

export const handler = withDurableExecution(
  async (_event, context) => {
    const batch = await context.parallel("parallel", [async () => "task-1", async () => "task-2"], {
      maxConcurrency: 1,
    });
    return batch.getResults();
  },
  { plugins: [new BranchFnPlugin()] },
);
