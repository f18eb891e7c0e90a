// 8-4: parallel whose branches return different types (string, number, object),
// max-concurrency 1; returns the successful results in branch index order.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "hetero",
    [async () => "hello", async () => 42, async () => ({ k: "v" })],
    { maxConcurrency: 1 },
  );
  return batch.getResults();
});
