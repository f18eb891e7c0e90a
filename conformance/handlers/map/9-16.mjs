// 9-16: map "large" over four items, each producing a ~70 KB string, so the
// aggregate (~280 KB) exceeds the 256 KB checkpoint threshold and the Map context
// is checkpointed with a summary and ReplayChildren. Returns {successCount, totalCount}.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const SIZE = 70 * 1024;

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map(
    "large",
    ["a", "b", "c", "d"],
    async (_ctx, item) => item.repeat(SIZE),
    { maxConcurrency: 1 },
  );
  return { successCount: batch.successCount, totalCount: batch.totalCount };
});
