// Chained-invoke target (durable): returns whatever it receives.
import { withDurableExecution } from "@aws/durable-execution-sdk-js";

export const handler = withDurableExecution(async (event) => event ?? null);
