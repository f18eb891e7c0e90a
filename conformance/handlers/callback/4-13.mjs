// 4-13: block on the callback with error handling; on failure keep an error
// message, then wait 2 s and return the message.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const [promise] = await context.createCallback(event);
  let message;
  try {
    message = await promise;
  } catch (err) {
    message = `callback failed: ${err.message}`;
  }
  await context.wait({ seconds: 2 });
  return message;
});
