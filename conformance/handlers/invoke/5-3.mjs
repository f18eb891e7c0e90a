// 5-3: invoke the echo target with a complex nested JSON input (the event)
// and return the echoed object.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.invoke("invoke-echo", process.env.TARGET_FUNCTION, event);
});
