// A durable function written with the official JS SDK that reports which
// transport it ran with: Duro's lean client (the Node bootstrap's request
// counters) or @aws-sdk/client-lambda (loaded through the CommonJS loader,
// so it shows up in require.cache).
import path from "node:path";
import { createRequire } from "node:module";
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

const require = createRequire(import.meta.url);
const clientLambda = `${path.sep}@aws-sdk${path.sep}client-lambda${path.sep}`;

export const handler = withDurableExecution(async (event, context) => {
  const one = await context.step("one", async () => event.base + 1);
  await context.wait("pause", { seconds: 1 });
  const two = await context.step("two", async () => one + 1);
  const stats = globalThis[Symbol.for("duro.leanDurableClient")];
  return {
    sum: one + two,
    clientLambdaLoaded: Object.keys(require.cache).some((k) => k.includes(clientLambda)),
    lean: stats ? { ...stats } : null,
  };
});
