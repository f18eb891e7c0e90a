// 6-13: Two sequential wait_for_condition operations — the first counts from 0 and
// stops at 2; its result seeds the second, which counts on and stops at 4. The
// handler returns the second result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const countUntil = (target) => (state) =>
  state < target ? { shouldContinue: true, delay: { seconds: 1 } } : { shouldContinue: false };

export const handler = withDurableExecution(async (_event, context) => {
  const first = await context.waitForCondition(async (state) => state + 1, {
    initialState: 0,
    waitStrategy: countUntil(2),
  });
  return await context.waitForCondition(async (state) => state + 1, {
    initialState: first,
    waitStrategy: countUntil(4),
  });
});
