// 6-1: Wait-for-condition basic — the check increments an integer state starting
// at 0; polling continues while the state is below the input threshold (3) and
// stops once it reaches it, returning the final counter value.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const threshold = Number(event);
  return await context.waitForCondition(async (state) => state + 1, {
    initialState: 0,
    waitStrategy: (state) =>
      state < threshold ? { shouldContinue: true, delay: { seconds: 1 } } : { shouldContinue: false },
  });
});
