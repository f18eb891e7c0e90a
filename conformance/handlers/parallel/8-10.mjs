// 8-10: parallel with toleratedFailureCount 1, max-concurrency 1: branches 0 and 1
// throw (2 > 1 exceeds the tolerance), branch 2 is never started; returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "tolerated-exceeded",
    [
      async () => {
        throw new Error("branch 0 failed");
      },
      async () => {
        throw new Error("branch 1 failed");
      },
      async () => "b2",
    ],
    { maxConcurrency: 1, completionConfig: { toleratedFailureCount: 1 } },
  );
  return {
    completionReason: batch.completionReason,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
