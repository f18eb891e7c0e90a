// 10-22: operation-change info shape. One step "greet" returns "task-a". For each
// step operation in a change's updated-operations delta, the plugin logs a
// canonical camelCase dump of that delta item (unset fields omitted), plus the
// change's executionArn, the sizes of both maps and whether the id is also in the
// full map.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { RecordingPlugin, isoTimestamp } from "./lib/records.mjs";

function dumpOperation(op) {
  const out = {
    id: op.id,
    name: op.name,
    type: op.type,
    subType: op.subType,
    parentId: op.parentId,
    status: op.status,
    startTimestamp: isoTimestamp(op.startTimestamp),
    endTimestamp: isoTimestamp(op.endTimestamp),
    result: op.result,
    error: op.error?.message,
    attempt: op.attempt,
    isReplay: op.isReplay,
  };
  for (const key of Object.keys(out)) if (out[key] === undefined || out[key] === null) delete out[key];
  return out;
}

class ChangeShapePlugin extends RecordingPlugin {
  constructor() {
    super("CONFPLUGIN");
  }
  async onInvocationStart(info) {
    this.captureArn(info);
  }
  async onOperationChange(info) {
    const updatedOperationsCount = Object.keys(info.updatedOperations).length;
    const operationsCount = Object.keys(info.operations).length;
    for (const [key, op] of Object.entries(info.updatedOperations)) {
      if (op.type !== "STEP") continue;
      this.log("operation-change", {
        executionArn: info.executionArn,
        updatedOperationsCount,
        operationsCount,
        inFullMap: Object.hasOwn(info.operations, op.id || key),
        ...dumpOperation(op),
      });
    }
  }
}

export const handler = withDurableExecution(
  async (_event, context) => context.step("greet", async () => "task-a"),
  { plugins: [new ChangeShapePlugin()] },
);
