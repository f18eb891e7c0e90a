// 9-9: map with toleratedFailureCount 1, max-concurrency 1, over three items: items
// 0 and 1 throw (exceeding the tolerance), item 2 never starts; returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map(
    "tolerated-exceeded",
    ["i0", "i1", "i2"],
    async (_ctx, item) => {
      if (item !== "i2") throw new Error(`item ${item} failed`);
      return item;
    },
    { maxConcurrency: 1, completionConfig: { toleratedFailureCount: 1 } },
  );
  return {
    completionReason: batch.completionReason,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
