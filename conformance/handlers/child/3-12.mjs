// 3-12: Child context interrupted and re-executed — inside a child context, the
// step crashes the process after ContextStarted and StepStarted have been
// checkpointed. On the re-invocation the SDK re-runs the still-STARTED step, which
// now returns the input string; the child context returns the step result.
//
// Whether the crash has already happened is kept in a marker file under
// os.tmpdir() keyed by the execution ARN (process memory is lost in the crash).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";
import { createHash } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const markerFor = (arn) =>
  join(tmpdir(), `duro-conformance-3-12-${createHash("sha256").update(arn).digest("hex")}.crashed`);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// waitUntilCheckpointed polls the execution's history through the Lambda API
// until the fire-and-forget StepStarted checkpoint has landed, so that the
// crash always comes after it (a fixed sleep is not enough on a busy machine).
async function waitUntilCheckpointed(arn) {
  const url = `${process.env.AWS_ENDPOINT_URL_LAMBDA}/2025-12-01/durable-executions/${encodeURIComponent(arn)}/history`;
  for (let i = 0; i < 600; i++) {
    const res = await fetch(url);
    if (res.ok) {
      const { Events = [] } = await res.json();
      if (Events.some((e) => e.EventType === "StepStarted")) return;
    }
    await sleep(50);
  }
  throw new Error("StepStarted was never checkpointed");
}

export const handler = withDurableExecution(async (event, context) => {
  const marker = markerFor(context.executionContext.durableExecutionArn);
  const result = await context.runInChildContext("interrupted_child", async (child) => {
    return await child.step("crashing_step", async () => {
      if (!existsSync(marker)) {
        // Let the fire-and-forget ContextStarted/StepStarted checkpoint land
        // before the crash.
        await waitUntilCheckpointed(context.executionContext.durableExecutionArn);
        writeFileSync(marker, "crashed\n");
        process.exit(1);
      }
      return event;
    });
  });
  // The step's success is checkpointed by now; the marker is no longer needed.
  rmSync(marker, { force: true });
  return result;
});
