// 5-15: invoke the target with a custom payload serdes that uppercases the
// string payload before sending; return the target's result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const upperCaseSerdes = {
  serialize: async (value) => (value === undefined ? undefined : JSON.stringify(String(value).toUpperCase())),
  deserialize: async (data) => (data === undefined ? undefined : JSON.parse(data)),
};

export const handler = withDurableExecution(async (event, context) => {
  return await context.invoke("invoke-upper", process.env.TARGET_FUNCTION, event.data, {
    payloadSerdes: upperCaseSerdes,
  });
});
