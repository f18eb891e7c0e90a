// 9-19: map "op-serde" over ["x", "y"] with an operation-level serdes for the whole
// map result: it writes "OPSERDE:" + the comma-joined results ("OPSERDE:X,Y") and
// reads that back into a batch result. Iterations return the upper-cased item with
// the default per-item serdes; max-concurrency 1.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const PREFIX = "OPSERDE:";
const opSerdes = {
  serialize: async (batch) => {
    if (batch === undefined) return undefined;
    return PREFIX + batch.getResults().join(",");
  },
  deserialize: async (data) => {
    if (data === undefined) return undefined;
    if (!data.startsWith(PREFIX)) throw new Error(`not an OPSERDE payload: ${data}`);
    const body = data.slice(PREFIX.length);
    const results = body === "" ? [] : body.split(",");
    return {
      all: results.map((result, index) => ({ result, index, status: "SUCCEEDED" })),
      completionReason: "ALL_COMPLETED",
    };
  },
};

export const handler = withDurableExecution(async (_event, context) => {
  const batch = await context.map("op-serde", ["x", "y"], async (_ctx, item) => item.toUpperCase(), {
    maxConcurrency: 1,
    serdes: opSerdes,
  });
  return batch.getResults();
});
