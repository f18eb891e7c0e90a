// 10-4: plugin error isolation. One step returns "Hello, <input>!". Every hook of
// the plugin logs a line and then throws; operation and attempt hooks only for
// step operations. The SDK must swallow every plugin exception.
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
  async onInvocationEnd() {
    this.fail("invocation-end");
  }
  async onOperationStart(info) {
    if (info.type === "STEP") this.fail("operation-start");
  }
  async onOperationEnd(info) {
    if (info.type === "STEP") this.fail("operation-end");
  }
  async onOperationAttemptStart(info) {
    if (info.type === "STEP") this.fail("attempt-start");
  }
  async onOperationAttemptEnd(info) {
    if (info.type === "STEP") this.fail("attempt-end");
  }
}

export const handler = withDurableExecution(
  async (event, context) => context.step("greet", async () => `Hello, ${event}!`),
  { plugins: [new FaultyPlugin()] },
);
