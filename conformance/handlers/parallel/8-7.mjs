// 8-7: fail-fast parallel (toleratedFailureCount 0, max-concurrency 1): branch 0
// throws, branch 1 is never started; the handler asks the batch result to
// rethrow, and the uncaught error fails the execution.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "throwing",
    [
      async () => {
        throw new Error("branch 0 failed");
      },
      async () => "never",
    ],
    { maxConcurrency: 1, completionConfig: { toleratedFailureCount: 0 } },
  );
  batch.throwIfError();
  return batch.getResults();
});
