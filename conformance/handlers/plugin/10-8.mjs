// 10-8: operation-change hook. One step returns "Hello, <input>!". For each step
// operation in a change's updated-operations delta the plugin logs its id, its
// post-change status, and whether the id is also in the change's full map.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class ChangePlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  async onOperationChange(info) {
    for (const [id, op] of Object.entries(info.updatedOperations)) {
      if (op.type !== "STEP") continue;
      this.log("operation-change", {
        op: op.id || id,
        status: op.status,
        in_full_map: Object.hasOwn(info.operations, op.id || id),
      });
    }
  }
}

export const handler = withDurableExecution(
  async (event, context) => context.step("greet", async () => `Hello, ${event}!`),
  { plugins: [new ChangePlugin()] },
);
