// 8-6: fail-fast parallel (toleratedFailureCount 0, max-concurrency 1): branch 0
// returns "ok", branch 1 throws, branch 2 is never started. The batch result is
// not rethrown; the handler returns a projection of it.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "failfast",
    [
      async () => "ok",
      async () => {
        throw new Error("branch 1 failed");
      },
      async () => "never",
    ],
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
