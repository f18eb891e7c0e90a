// 10-5: multiple plugins. One step returns "Hello, <input>!". Two plugins,
// registered together in order A, B through the SDK's environment-based plugin
// loading: the function sets DURABLE_EXECUTION_PLUGINS=confplugin-a,confplugin-b
// (provider modules in plugin/providers/, on the function's NODE_PATH). Each logs
// invocation-start and invocation-end (status).
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) =>
  context.step("greet", async () => `Hello, ${event}!`),
);
