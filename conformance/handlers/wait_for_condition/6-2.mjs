// 6-2: Wait-for-condition immediate stop — initial state 5, the check returns the
// state unchanged and the strategy stops at once because state >= 5 already holds.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.waitForCondition(async (state) => state, {
    initialState: 5,
    waitStrategy: (state) =>
      state >= 5 ? { shouldContinue: false } : { shouldContinue: true, delay: { seconds: 1 } },
  });
});
