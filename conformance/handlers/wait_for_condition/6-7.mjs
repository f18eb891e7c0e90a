// 6-7: Wait-for-condition check throws (uncaught) — the check raises on its first
// invocation; the SDK records a terminal StepFailed and the execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.waitForCondition(
    async (_state, checkContext) => {
      if (checkContext.attempt === 1) {
        throw new Error("condition check failed");
      }
      return "unreachable";
    },
    {
      initialState: "initial",
      waitStrategy: () => ({ shouldContinue: false }),
    },
  );
});
