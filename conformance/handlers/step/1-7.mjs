// 1-7: Step with context logger — the step logs through the step context logger
// when it starts and when it completes, and returns the greeting.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const greet = (name) => async (stepContext) => {
  stepContext.logger.info(`Greeting step started for: ${name}`);
  const greeting = `Hello, ${name}!`;
  stepContext.logger.info(`Greeting step completed with: ${greeting}`);
  return greeting;
};

export const handler = withDurableExecution(async (event, context) => {
  return await context.step(greet(event));
});
