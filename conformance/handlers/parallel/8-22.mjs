// 8-22: parallel with toleratedFailurePercentage 25 over four branches,
// max-concurrency 1: branch 0 throws (25%, not exceeding 25%), branches 1-3
// succeed; all run; returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "pct-boundary",
    [
      async () => {
        throw new Error("branch 0 failed");
      },
      async () => "b1",
      async () => "b2",
      async () => "b3",
    ],
    { maxConcurrency: 1, completionConfig: { toleratedFailurePercentage: 25 } },
  );
  return {
    completionReason: batch.completionReason,
    status: batch.status,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
