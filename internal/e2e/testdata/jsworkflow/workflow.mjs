// A durable function written with the official JS SDK that exercises every
// kind of operation. The e2e tests upload it as a zip through CreateFunction.
import { withDurableExecution, createRetryStrategy, JitterStrategy } from "@aws/durable-execution-sdk-js";

const retryOnce = createRetryStrategy({
  maxAttempts: 3,
  initialDelay: { seconds: 1 },
  backoffRate: 1,
  jitter: JitterStrategy.NONE,
});

export const handler = withDurableExecution(async (event, context) => {
  const order = await context.step("validate", async () => ({ id: event.orderId, items: event.items }));
  const flaky = await context.step(
    "flaky",
    async (stepContext) => {
      if (stepContext.attempt === 1) throw new Error("transient failure");
      return `ok on attempt ${stepContext.attempt}`;
    },
    { retryStrategy: retryOnce },
  );
  await context.wait("cool-off", { seconds: 1 });
  const approval = await context.waitForCallback("approval", async (callbackId) => {
    console.log(JSON.stringify({ message: "approval requested", callbackId }));
  });
  const priced = await context.runInChildContext("pricing", async (child) => {
    const base = await child.step("base", async () => order.items.length * 10);
    return base + 1;
  });
  const branches = await context.parallel("checks", [
    async (ctx) => ctx.step("fraud", async () => "clean"),
    async (ctx) => ctx.step("stock", async () => "in-stock"),
  ]);
  const labels = await context.map("labels", order.items, async (ctx, item) => ctx.step("label", async () => `label-${item}`));
  const echoed = await context.invoke("echo", process.env.ECHO_FUNCTION, { order: order.id });
  return {
    order: order.id,
    flaky,
    approval: JSON.parse(approval),
    priced,
    checks: branches.getResults(),
    labels: labels.getResults(),
    echoed,
  };
});
