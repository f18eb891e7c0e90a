// 8-18: parallel with minSuccessful 3 and toleratedFailureCount 1 over four
// branches, max-concurrency 1: branches 0 and 1 throw, exceeding the tolerance,
// so branches 2 and 3 never start; returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "combined",
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
    { maxConcurrency: 1, completionConfig: { minSuccessful: 3, toleratedFailureCount: 1 } },
  );
  return {
    completionReason: batch.completionReason,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
