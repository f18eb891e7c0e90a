// 1-4: Returning complex object — the step returns a nested object with arrays and mixed types.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const buildResponse = (event) => async () => ({
  user: { name: event.name, tags: [...event.tags] },
  count: event.tags.length,
});

export const handler = withDurableExecution(async (event, context) => {
  return await context.step(buildResponse(event));
});
