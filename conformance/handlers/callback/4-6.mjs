// 4-6: callback named after the input; the external system reports a
// failure, which the handler does not catch.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [result] = await context.createCallback(event);
  return await result;
});
