// 9-7: map with minSuccessful 2 over four items (each returns a constant string),
// max-concurrency 1: completes early after items 0 and 1.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map(
    "min-successful",
    ["i0", "i1", "i2", "i3"],
    async () => "done",
    { maxConcurrency: 1, completionConfig: { minSuccessful: 2 } },
  );
  return {
    completionReason: batch.completionReason,
    successCount: batch.successCount,
    totalCount: batch.totalCount,
  };
});
