// 4-14: callback with a 3 s timeout awaited with error handling; on timeout
// keep an error message, then wait 2 s and return.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [promise] = await context.createCallback(event, { timeout: { seconds: 3 } });
  let message;
  try {
    message = await promise;
  } catch (err) {
    message = `callback timed out: ${err.message}`;
  }
  await context.wait({ seconds: 2 });
  return message;
});
