// 6-10: Wait-for-condition null result — the check returns null and the strategy
// stops on the first attempt, so the execution returns null.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.waitForCondition(async () => null, {
    initialState: null,
    waitStrategy: () => ({ shouldContinue: false }),
  });
});
