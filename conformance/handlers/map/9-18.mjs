// 9-18: map "fail-then-wait" over ["ok", "fail"] with toleratedFailureCount 1: item 0
// succeeds, item 1 throws; not rethrown. Then a 1-second wait suspends the
// execution; the replay skips the completed map. Returns a projection.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map(
    "fail-then-wait",
    ["ok", "fail"],
    async (_ctx, item) => {
      if (item === "fail") throw new Error("item fail failed");
      return item;
    },
    { maxConcurrency: 1, completionConfig: { toleratedFailureCount: 1 } },
  );
  await context.wait({ seconds: 1 });
  return {
    completionReason: batch.completionReason,
    status: batch.status,
    successCount: batch.successCount,
    failureCount: batch.failureCount,
    totalCount: batch.totalCount,
  };
});
