// 3-11: Child context large payload (ReplayChildren) — the step returns a small
// value, the child context builds a > 256 KB result from it, so the SDK checkpoints
// the context with ReplayChildren. The child body logs the input through its own
// logger outside the step, with replay logging enabled, so the re-execution on
// replay is observable. A wait follows the child context.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const LARGE_SIZE = 300 * 1024;

export const handler = withDurableExecution(async (event, context) => {
  const large = await context.runInChildContext("large_child", async (child) => {
    child.configureLogger({ modeAware: false });
    child.logger.info(`Building large result for input: ${event}`);
    const small = await child.step("small_step", async () => event);
    return { seed: small, data: small.repeat(Math.ceil(LARGE_SIZE / small.length)) };
  });
  await context.wait({ seconds: 1 });
  return { seed: large.seed, size: large.data.length };
});
