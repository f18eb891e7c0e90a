// 9-4: map "empty" over the (empty) input list; returns the empty results list.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const batch = await context.map("empty", event, async (_ctx, item) => item);
  return batch.getResults();
});
