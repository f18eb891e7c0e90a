// 10-17: a faulty plugin does not affect a healthy one. One step returns
// "Hello, <input>!". Plugins, in order: a faulty one whose every exercised hook
// logs and then throws, and a healthy one logging the same lifecycle normally.
// Operation and attempt records are for step operations only.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class FaultyPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN-FAULTY");
  }
  fail(hook) {
    this.log(hook);
    throw new Error(`CONFPLUGIN-FAULTY ${hook} hook failure`);
  }
  async onInvocationStart(info) {
    this.captureArn(info);
    this.fail("invocation-start");
  }
  async onOperationStart(info) {
    if (info.type === "STEP") this.fail("operation-start");
  }
  async onOperationAttemptStart(info) {
    if (info.type === "STEP") this.fail("attempt-start");
  }
  async onOperationAttemptEnd(info) {
    if (info.type === "STEP") this.fail("attempt-end");
  }
  async onOperationEnd(info) {
    if (info.type === "STEP") this.fail("operation-end");
  }
  async onInvocationEnd() {
    this.fail("invocation-end");
  }
}

class HealthyPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN-HEALTHY");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
    this.log("invocation-start", { first: info.isFirstInvocation });
  }
  async onOperationStart(info) {
    if (info.type === "STEP") this.log("operation-start", { op: info.id });
  }
  async onOperationAttemptStart(info) {
    if (info.type === "STEP") this.log("attempt-start", { op: info.id });
  }
  async onOperationAttemptEnd(info) {
    if (info.type === "STEP") this.log("attempt-end", { op: info.id, outcome: info.outcome });
  }
  async onOperationEnd(info) {
    if (info.type === "STEP") this.log("operation-end", { op: info.id, status: info.status });
  }
  async onInvocationEnd(info) {
    this.log("invocation-end", { status: info.status });
  }
}

export const handler = withDurableExecution(
  async (event, context) => context.step("greet", async () => `Hello, ${event}!`),
  { plugins: [new FaultyPlugin(), new HealthyPlugin()] },
);
