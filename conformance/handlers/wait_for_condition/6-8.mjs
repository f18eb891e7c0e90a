// 6-8: Wait-for-condition check throws, caught by the handler — the check raises on
// its first invocation; the handler catches the failure and returns "recovered".
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  try {
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
  } catch {
    return "recovered";
  }
});
