// 8-12: parallel with FLAT nesting (virtual branch contexts), max-concurrency 1;
// each branch runs one step returning "fa" / "fb", checkpointed directly under
// the Parallel context.
import { withDurableExecution, NestingType } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "flat",
    [
      async (ctx) => ctx.step("fa", async () => "fa"),
      async (ctx) => ctx.step("fb", async () => "fb"),
    ],
    { maxConcurrency: 1, nesting: NestingType.FLAT },
  );
  return batch.getResults();
});
