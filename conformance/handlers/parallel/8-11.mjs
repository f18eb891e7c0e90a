// 8-11: parallel with max-concurrency 2 over three constant branches; the results
// come back in branch index order regardless of completion order.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "concurrent",
    [async () => "r0", async () => "r1", async () => "r2"],
    { maxConcurrency: 2 },
  );
  return batch.getResults();
});
