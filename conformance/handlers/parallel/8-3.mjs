// 8-3: parallel with named-branch objects ("first" -> "one", "second" -> "two"),
// max-concurrency 1; returns the successful results in branch index order.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel(
    "named",
    [
      { name: "first", func: async () => "one" },
      { name: "second", func: async () => "two" },
    ],
    { maxConcurrency: 1 },
  );
  return batch.getResults();
});
