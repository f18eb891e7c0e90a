// 6-3: Wait-for-condition with explicit name "poll-status" — the check increments
// an integer state from 0; polling continues while the state is below 2.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  return await context.waitForCondition("poll-status", async (state) => state + 1, {
    initialState: 0,
    waitStrategy: (state) =>
      state < 2 ? { shouldContinue: true, delay: { seconds: 1 } } : { shouldContinue: false },
  });
});
