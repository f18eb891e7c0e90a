// 10-18: replay flag for a non-terminal wait. parallel "waits", max-concurrency 2:
// branch 0 waits "short" (2 s) and returns "short-done"; branch 1 waits "long"
// (8 s) and returns "long-done". The plugin, for wait operations, logs
// operation-start (type, name, replay, pending: the info's status is non-terminal)
// and operation-end (type, name, status).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin, TERMINAL_OPERATION_STATUSES } from "./lib/records.mjs";

class WaitReplayPlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  async onOperationStart(info) {
    const type = String(info.type).toUpperCase();
    if (type !== "WAIT") return;
    const pending = info.status !== undefined ? !TERMINAL_OPERATION_STATUSES.has(info.status) : info.endTimestamp == null;
    this.log("operation-start", { type, name: info.name, replay: info.isReplay, pending });
  }
  async onOperationEnd(info) {
    const type = String(info.type).toUpperCase();
    if (type !== "WAIT") return;
    this.log("operation-end", { type, name: info.name, status: info.status });
  }
}

export const handler = withDurableExecution(
  async (_event, context) => {
    const batch = await context.parallel(
      "waits",
      [
        async (ctx) => {
          await ctx.wait("short", { seconds: 2 });
          return "short-done";
        },
        async (ctx) => {
          await ctx.wait("long", { seconds: 8 });
          return "long-done";
        },
      ],
      { maxConcurrency: 2 },
    );
    return batch.getResults();
  },
  { plugins: [new WaitReplayPlugin()] },
);
