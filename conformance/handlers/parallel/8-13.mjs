// 8-13: parallel with toleratedFailurePercentage 25 over four branches,
// max-concurrency 1: branches 0 and 1 throw (50% > 25%), branches 2 and 3 are
// never started; returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "tolerated-pct",
    [
      async () => {
        throw new Error("branch 0 failed");
      },
      async () => {
        throw new Error("branch 1 failed");
      },
      async () => "b2",
      async () => "b3",
    ],
    { maxConcurrency: 1, completionConfig: { toleratedFailurePercentage: 25 } },
  );
  return {
    completionReason: batch.completionReason,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
