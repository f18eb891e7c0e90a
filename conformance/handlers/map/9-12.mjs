// 9-12: map with FLAT nesting (virtual iteration contexts), max-concurrency 1, over
// ["fa", "fb"]; each item runs one step returning the item, checkpointed directly
// under the Map context.
import { withDurableExecution, NestingType } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map(
    "flat",
    ["fa", "fb"],
    async (ctx, item) => ctx.step(item, async () => item),
    { maxConcurrency: 1, nesting: NestingType.FLAT },
  );
  return batch.getResults();
});
