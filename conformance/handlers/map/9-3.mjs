// 9-3: map "indexed" over the input items [10, 20, 30], max-concurrency 1; the map
// function returns item + index directly (no inner step).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const batch = await context.map("indexed", event, async (_ctx, item, index) => item + index, {
    maxConcurrency: 1,
  });
  return batch.getResults();
});
