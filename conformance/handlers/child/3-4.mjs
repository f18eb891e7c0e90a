// 3-4: Child context error — the step inside the child context throws, with no
// retry; the error propagates as a ChildContextError and the execution fails.
import { withDurableExecution, retryPresets } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.runInChildContext("failing_child", async (child) => {
    return await child.step(
      "failing_step",
      async () => {
        throw new Error("step inside child context failed");
      },
      { retryStrategy: retryPresets.noRetry },
    );
  });
});
