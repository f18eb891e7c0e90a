// 9-17: map "then-wait" over ["a", "b"] returning the upper-cased item, then a
// 1-second wait suspends the execution; the replay skips the completed map.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map("then-wait", ["a", "b"], async (_ctx, item) => item.toUpperCase(), {
    maxConcurrency: 1,
  });
  await context.wait({ seconds: 1 });
  return batch.getResults();
});
