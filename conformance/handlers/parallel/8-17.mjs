// 8-17: parallel with minSuccessful 3, max-concurrency 1: branch 0 succeeds,
// branch 1 throws, branch 2 succeeds; the threshold is never reached and all
// branches run; returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "min-not-reached",
    [
      async () => "b0",
      async () => {
        throw new Error("branch 1 failed");
      },
      async () => "b2",
    ],
    { maxConcurrency: 1, completionConfig: { minSuccessful: 3 } },
  );
  return {
    completionReason: batch.completionReason,
    status: batch.status,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
