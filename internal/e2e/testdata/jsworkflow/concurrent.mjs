// A durable function for workers on managed instances: two steps around a
// one-second wait, each logging which execution it belongs to and
// returning the worker's process id.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  const a = await context.step("a", async () => {
    console.log(`step a of ${event.n}`);
    return process.pid;
  });
  await context.wait("pause", { seconds: 1 });
  const b = await context.step("b", async () => {
    console.log(`step b of ${event.n}\nsecond line of ${event.n}`);
    return process.pid;
  });
  return { n: event.n, pids: [a, b], max: process.env.AWS_LAMBDA_MAX_CONCURRENCY };
});
