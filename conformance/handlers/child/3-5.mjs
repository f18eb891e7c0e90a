// 3-5: Child context error caught — the step inside the child context fails; the
// parent handler catches the error and runs a recovery step returning the input.
import { withDurableExecution, retryPresets } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  try {
    await context.runInChildContext("failing_child", async (child) => {
      return await child.step(
        "failing_step",
        async () => {
          throw new Error("step inside child context failed");
        },
        { retryStrategy: retryPresets.noRetry },
      );
    });
  } catch {
    // recovered below
  }
  return await context.step("recovery_step", async () => event);
});
