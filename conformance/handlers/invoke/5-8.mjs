// 5-8: invoke the target with event.payload and the tenantId option
// event.tenantId; return the result.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event, context) => {
  return await context.invoke("invoke-tenant", process.env.TARGET_FUNCTION, event.payload, {
    tenantId: event.tenantId,
  });
});
