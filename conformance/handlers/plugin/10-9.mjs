// 10-9: externally updated operations on re-invocation. One 2-second wait. From
// invocation-start, the plugin logs each wait operation the SDK reports as updated
// externally since the previous invocation (info.updatedOperations).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin } from "./lib/records.mjs";

class UpdatedOnInvokePlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
    for (const [id, op] of Object.entries(info.updatedOperations ?? {})) {
      if (op.type !== "WAIT") continue;
      this.log("updated-on-invoke", { op: op.id || id, status: op.status, first: info.isFirstInvocation });
    }
  }
}

export const handler = withDurableExecution(
  async (_event, context) => {
    await context.wait({ seconds: 2 });
  },
  { plugins: [new UpdatedOnInvokePlugin()] },
);
