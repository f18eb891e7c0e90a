// 10-13: replay flag on operation-start. Step A succeeds; step B fails on attempt
// 1 and succeeds on attempt 2 (up to 3 attempts, 1 s delay). The plugin, for step
// operations, logs operation-start (op, replay) and operation-end (op, status).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class ReplayPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  async onOperationStart(info) {
    if (info.type !== "STEP") return;
    this.log("operation-start", { op: info.id, replay: info.isReplay });
  }
  async onOperationEnd(info) {
    if (info.type !== "STEP") return;
    this.log("operation-end", { op: info.id, status: info.status });
  }
}

const retryStrategy = (_error, attempt) => ({ shouldRetry: attempt < 3, delay: { seconds: 1 } });

export const handler = withDurableExecution(
  async (_event, context) => {
    await context.step("step-a", async () => "a");
    return context.step(
      "step-b",
      async (stepContext) => {
        if (stepContext.attempt === 1) throw new Error("step B attempt 1 fails");
        return "Operation succeeded";
      },
      { retryStrategy },
    );
  },
  { plugins: [new ReplayPlugin()] },
);
