// 5-9: invoke the target, then wait 1 s; on the replay after the wait the
// invoke result comes from the checkpoint and is returned.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (_event, context) => {
  const result = await context.invoke("invoke-echo", process.env.TARGET_FUNCTION);
  await context.wait({ seconds: 1 });
  return result;
});
