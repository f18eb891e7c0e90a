// 4-3: callback named after the input with a 5 s general timeout; nobody
// answers, so awaiting it throws and the execution fails.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [result] = await context.createCallback(event, { timeout: { seconds: 5 } });
  return await result;
});
