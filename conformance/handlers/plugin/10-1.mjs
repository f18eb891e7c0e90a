// 10-1: invocation lifecycle hooks. One step returns "Hello, <input>!" and logs
// "Greeting step running for: <input>" (through the step's logger) first. The
// plugin logs invocation-start (with the first-invocation flag) and
// invocation-end (with the invocation status).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class InvocationPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
    this.log("invocation-start", { first: info.isFirstInvocation });
  }
  async onInvocationEnd(info) {
    this.log("invocation-end", { status: info.status });
  }
}

export const handler = withDurableExecution(
  async (event, context) =>
    context.step("greet", async (stepContext) => {
      stepContext.logger.info(`Greeting step running for: ${event}`);
      return `Hello, ${event}!`;
    }),
  { plugins: [new InvocationPlugin()] },
);
