// 1-1: Step basic — a single step that takes the input and returns a greeting.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const greet = (name) => async () => `Hello, ${name}!`;

export const handler = withDurableExecution(async (event, context) => {
  return await context.step(greet(event));
});
