// 10-16: invocation-end on suspension. One 2-second wait. The plugin logs
// invocation-start (first) and invocation-end (first of the same invocation,
// captured at its start; terminal = status is SUCCEEDED or FAILED; status).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class SuspensionPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
    this.first = undefined;
  }
  async onInvocationStart(info) {
    this.captureArn(info);
    this.first = info.isFirstInvocation;
    this.log("invocation-start", { first: info.isFirstInvocation });
  }
  async onInvocationEnd(info) {
    const terminal = info.status === "SUCCEEDED" || info.status === "FAILED";
    this.log("invocation-end", { first: this.first, terminal, status: info.status });
  }
}

export const handler = withDurableExecution(
  async (_event, context) => {
    await context.wait({ seconds: 2 });
  },
  { plugins: [new SuspensionPlugin()] },
);
