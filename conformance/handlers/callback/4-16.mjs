// 4-16: callback with a custom deserializer that parses the payload into a
// number; returns the count and its double.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const numberSerdes = {
  deserialize: async (data) => (data === undefined ? undefined : Number(JSON.parse(data))),
};

export const handler = withDurableExecution(async (event, context) => {
  const [promise] = await context.createCallback(event, { serdes: numberSerdes });
  const count = await promise;
  return { count, doubled: count * 2 };
});
