// 6-4: Wait-for-condition custom initial state — initial state 5, the check
// increments it, each returned state feeds the next check; polling continues while
// the state is below the input threshold (8).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const threshold = Number(event);
  return await context.waitForCondition(async (state) => state + 1, {
    initialState: 5,
    waitStrategy: (state) =>
      state < threshold ? { shouldContinue: true, delay: { seconds: 1 } } : { shouldContinue: false },
  });
});
