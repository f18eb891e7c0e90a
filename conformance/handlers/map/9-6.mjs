// 9-6: fail-fast map (toleratedFailureCount 0, max-concurrency 1) over two items:
// item 0 throws, item 1 never starts; the handler rethrows through the batch
// result and the execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map(
    "throwing",
    ["i0", "i1"],
    async (_ctx, item) => {
      if (item === "i0") throw new Error(`item ${item} failed`);
      return item;
    },
    { maxConcurrency: 1, completionConfig: { toleratedFailureCount: 0 } },
  );
  batch.throwIfError();
  return batch.getResults();
});
