// 9-11: map with max-concurrency 2 over three items, each returning a constant
// string ("r0", "r1", "r2"); results come back in item index order.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map("concurrent", ["i0", "i1", "i2"], async (_ctx, _item, index) => `r${index}`, {
    maxConcurrency: 2,
  });
  return batch.getResults();
});
