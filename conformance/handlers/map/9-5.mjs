// 9-5: fail-fast map (toleratedFailureCount 0, max-concurrency 1) over three items:
// item 0 returns "ok", item 1 throws, item 2 never starts. Not rethrown; returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map(
    "failfast",
    ["i0", "i1", "i2"],
    async (_ctx, item) => {
      if (item === "i1") throw new Error(`item ${item} failed`);
      return "ok";
    },
    { maxConcurrency: 1, completionConfig: { toleratedFailureCount: 0 } },
  );
  return {
    completionReason: batch.completionReason,
    status: batch.status,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
