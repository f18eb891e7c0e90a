// 10-7: the plugin sees a terminal failure. One step always throws, with no
// retries (max attempts 1), so the execution fails. The plugin logs
// invocation-start (first flag) and invocation-end (status).
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

const noRetry = () => ({ shouldRetry: false });

export const handler = withDurableExecution(
  async (_event, context) =>
    context.step(
      "failing",
      async () => {
        throw new Error("step always fails");
      },
      { retryStrategy: noRetry },
    ),
  { plugins: [new InvocationPlugin()] },
);
