// 10-14: operation-end payload. Step A returns "task-a"; step B throws "boom" with
// no retries, so the execution fails. The plugin, for step operations, logs
// operation-end with the status, the checkpointed serialized result (or NONE)
// and the error message (or NONE).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class EndPayloadPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  async onOperationEnd(info) {
    if (info.type !== "STEP") return;
    this.log("operation-end", {
      op: info.id,
      status: info.status,
      result: info.result ?? "NONE",
      error: info.error?.message ?? "NONE",
    });
  }
}

const noRetry = () => ({ shouldRetry: false });

export const handler = withDurableExecution(
  async (_event, context) => {
    await context.step("step-a", async () => "task-a");
    return context.step(
      "step-b",
      async () => {
        throw new Error("boom");
      },
      { retryStrategy: noRetry },
    );
  },
  { plugins: [new EndPayloadPlugin()] },
);
