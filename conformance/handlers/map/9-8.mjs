// 9-8: map with toleratedFailureCount 1, max-concurrency 1, over three items: item 0
// succeeds, item 1 throws, item 2 succeeds; all complete; returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map(
    "tolerated",
    ["i0", "i1", "i2"],
    async (_ctx, item) => {
      if (item === "i1") throw new Error(`item ${item} failed`);
      return item;
    },
    { maxConcurrency: 1, completionConfig: { toleratedFailureCount: 1 } },
  );
  return {
    completionReason: batch.completionReason,
    status: batch.status,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
