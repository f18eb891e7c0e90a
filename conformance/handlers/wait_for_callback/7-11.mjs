// 7-11: waitForCallback named after the input that deserializes the payload
// as a JSON object; return its "status" field.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const jsonDeserializer = {
  deserialize: async (data) => (data === undefined ? undefined : JSON.parse(data)),
};

export const handler = withDurableExecution(async (event, context) => {
  const result = await context.waitForCallback(event, async (_callbackId) => {}, {
    serdes: jsonDeserializer,
  });
  return result.status;
});
