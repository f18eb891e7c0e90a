// 8-5: parallel with an empty branches list; returns the (empty) successful results.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel("empty", []);
  return batch.getResults();
});
