// 9-13: map "named-items" over the input items [1, 2] with an item namer producing
// "item-<item>", max-concurrency 1; the map function returns item * 10.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const batch = await context.map("named-items", event, async (_ctx, item) => item * 10, {
    maxConcurrency: 1,
    itemNamer: (item) => `item-${item}`,
  });
  return batch.getResults();
});
