// 10-2: operation lifecycle hooks. One step returns "Hello, <input>!". The plugin,
// for step operations only, logs operation-start (op id) and operation-end (op id,
// status).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class OperationPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  async onOperationStart(info) {
    if (info.type !== "STEP") return;
    this.log("operation-start", { op: info.id });
  }
  async onOperationEnd(info) {
    if (info.type !== "STEP") return;
    this.log("operation-end", { op: info.id, status: info.status });
  }
}

export const handler = withDurableExecution(
  async (event, context) => context.step("greet", async () => `Hello, ${event}!`),
  { plugins: [new OperationPlugin()] },
);
