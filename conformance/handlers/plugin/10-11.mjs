// 10-11: parent linkage. A child context runs one step returning "Hello, <input>!".
// The plugin logs operation-end for every operation reaching a terminal status,
// with its id, its parent id (or NONE) and its status.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin, TERMINAL_OPERATION_STATUSES } from "./lib/records.mjs";

class ParentPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  async onOperationEnd(info) {
    if (!TERMINAL_OPERATION_STATUSES.has(info.status)) return;
    this.log("operation-end", { op: info.id, parent: info.parentId ?? "NONE", status: info.status });
  }
}

export const handler = withDurableExecution(
  async (event, context) =>
    context.runInChildContext("child", async (child) => child.step("greet", async () => `Hello, ${event}!`)),
  { plugins: [new ParentPlugin()] },
);
