// 8-19: parallel with an invalid max-concurrency of 0: the SDK rejects it with a
// validation error before any branch runs, and the execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel("bad-concurrency", [async () => "b0", async () => "b1"], {
    maxConcurrency: 0,
  });
  return batch.getResults();
});
