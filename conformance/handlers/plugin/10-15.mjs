// 10-15: attempt hooks through retry exhaustion. One step always throws; the retry
// strategy allows 2 attempts in total with a 1 s delay. The plugin, for step
// operations, logs attempt-start (n, op), attempt-end (n, outcome, op) and
// operation-end (op, status).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class ExhaustionPlugin extends RecordingPlugin {
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
  async onOperationEnd(info) {
    if (info.type !== "STEP") return;
    this.log("operation-end", { op: info.id, status: info.status });
  }
}

const twoAttempts = (_error, attempt) => ({ shouldRetry: attempt < 2, delay: { seconds: 1 } });

export const handler = withDurableExecution(
  async (_event, context) =>
    context.step(
      "always-fail",
      async () => {
        throw new Error("always fails");
      },
      { retryStrategy: twoAttempts },
    ),
  { plugins: [new ExhaustionPlugin()] },
);
