// 8-15: parallel with a custom per-branch serde (itemSerdes) that stores v as
// {"wrapped": v} and reads it back as v; max-concurrency 1; returns ["x", "y"].
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const wrapSerdes = {
  serialize: async (value) => (value === undefined ? undefined : JSON.stringify({ wrapped: value })),
  deserialize: async (data) => (data === undefined ? undefined : JSON.parse(data).wrapped),
};

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.parallel("serde", [async () => "x", async () => "y"], {
    maxConcurrency: 1,
    itemSerdes: wrapSerdes,
  });
  return batch.getResults();
});
