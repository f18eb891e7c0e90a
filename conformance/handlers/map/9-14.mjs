// 9-14: map "serdes" over ["x", "y"] with a custom per-item serdes: a result v is
// stored as "wrapped:<v>" and read back by stripping the prefix. Each iteration
// returns the upper-cased item; max-concurrency 1.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const PREFIX = "wrapped:";
const itemSerdes = {
  serialize: async (value) => (value === undefined ? undefined : PREFIX + value),
  deserialize: async (data) => {
    if (data === undefined) return undefined;
    if (!data.startsWith(PREFIX)) throw new Error(`not a wrapped value: ${data}`);
    return data.slice(PREFIX.length);
  },
};

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map("serdes", ["x", "y"], async (_ctx, item) => item.toUpperCase(), {
    maxConcurrency: 1,
    itemSerdes,
  });
  return batch.getResults();
});
