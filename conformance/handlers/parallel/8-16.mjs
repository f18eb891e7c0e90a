// 8-16: parallel with toleratedFailureCount 3, max-concurrency 1, where all
// three branches throw; all run (3 does not exceed 3); returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const failing = (i) => async () => {
  throw new Error(`branch ${i} failed`);
};

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel("all-fail", [failing(0), failing(1), failing(2)], {
    maxConcurrency: 1,
    completionConfig: { toleratedFailureCount: 3 },
  });
  return {
    completionReason: batch.completionReason,
    status: batch.status,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
