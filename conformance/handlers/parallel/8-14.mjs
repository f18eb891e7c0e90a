// 8-14: parallel, max-concurrency 1: branch 0 runs one step returning "b0";
// branch 1 waits 2 s then returns "b1". The first invocation suspends on the
// wait; the replay skips branch 0 and finishes branch 1.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "replay",
    [
      async (ctx) => ctx.step("b0", async () => "b0"),
      async (ctx) => {
        await ctx.wait({ seconds: 2 });
        return "b1";
      },
    ],
    { maxConcurrency: 1 },
  );
  return batch.getResults();
});
