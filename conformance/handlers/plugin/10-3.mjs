// 10-3: attempt hooks under retry. One step fails on attempt 1 and succeeds on
// attempt 2 (retry strategy: up to 3 attempts, 1 s delay). The plugin, for step
// operations, logs attempt-start (n, op) and attempt-end (n, outcome, op).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class AttemptPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  async onOperationAttemptStart(info) {
    if (info.type !== "STEP") return;
    this.log("attempt-start", { n: info.attempt, op: info.id });
  }
  async onOperationAttemptEnd(info) {
    if (info.type !== "STEP") return;
    this.log("attempt-end", { n: info.attempt, outcome: info.outcome, op: info.id });
  }
}

const retryStrategy = (_error, attempt) => ({ shouldRetry: attempt < 3, delay: { seconds: 1 } });

export const handler = withDurableExecution(
  async (_event, context) =>
    context.step(
      "unreliable",
      async (stepContext) => {
        if (stepContext.attempt === 1) throw new Error("attempt 1 fails");
        return "Operation succeeded";
      },
      { retryStrategy },
    ),
  { plugins: [new AttemptPlugin()] },
);
