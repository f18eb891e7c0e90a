// 9-1: map "map" over the input items, max-concurrency 1; each item runs one step
// returning "Hello, <item>!"; returns the successful results in item order.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const batch = await context.map(
    "map",
    event,
    async (ctx, item) => ctx.step("greet", async () => `Hello, ${item}!`),
    { maxConcurrency: 1 },
  );
  return batch.getResults();
});
