// 8-8: parallel with minSuccessful 2 over four constant branches, max-concurrency 1:
// completes early after branches 0 and 1; returns {completionReason, successCount, totalCount}.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "min-successful",
    [async () => "b0", async () => "b1", async () => "b2", async () => "b3"],
    { maxConcurrency: 1, completionConfig: { minSuccessful: 2 } },
  );
  return {
    completionReason: batch.completionReason,
    successCount: batch.successCount,
    totalCount: batch.totalCount,
  };
});
