// Duro's bundled example: an order workflow as a Lambda durable function,
// written with the official SDK and nothing Duro-specific. The same code runs
// on AWS Lambda and on Duro.
//
// The workflow:
//   1. validate-order     (step)  checks the input and prices the order
//   2. reserve-stock      (step)  reserves the items
//   3. cool-off           (wait)  a few seconds without holding a process
//   4. payment-approval   (callback) suspends until someone approves or
//                                  declines the payment; the callback id is
//                                  logged so you can complete it with the CLI
//   5. confirm-order or release-stock (step) depending on the decision
//
// Every step result is checkpointed: when the function is re-invoked after the
// wait or the callback, completed steps are replayed from their checkpoints
// instead of running again.

import { withDurableExecution } from "@aws/durable-execution-sdk-js";

// A pretend catalogue: price in cents and units in stock.
const CATALOGUE = {
  "sku-espresso": { name: "Espresso beans 1kg", price: 2400, stock: 40 },
  "sku-grinder": { name: "Burr grinder", price: 18900, stock: 5 },
  "sku-filter": { name: "Paper filters (100)", price: 450, stock: 200 },
};

const DEFAULT_ORDER = {
  orderId: "order-1001",
  customer: "ada@example.com",
  items: [
    { sku: "sku-espresso", quantity: 2 },
    { sku: "sku-filter", quantity: 1 },
  ],
};

function validateOrder(event) {
  const input = event && typeof event === "object" && !Array.isArray(event) ? event : {};
  const order = { ...DEFAULT_ORDER, ...input };
  if (typeof order.orderId !== "string" || order.orderId === "") {
    throw new Error("orderId must be a non-empty string");
  }
  if (!Array.isArray(order.items) || order.items.length === 0) {
    throw new Error("an order needs at least one item");
  }
  const lines = order.items.map(({ sku, quantity }) => {
    const product = CATALOGUE[sku];
    if (!product) throw new Error(`unknown sku ${sku}`);
    if (!Number.isInteger(quantity) || quantity < 1) {
      throw new Error(`quantity of ${sku} must be a positive integer`);
    }
    return { sku, name: product.name, quantity, amount: product.price * quantity };
  });
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  return { orderId: order.orderId, customer: order.customer, lines, total };
}

function reserveStock(order) {
  for (const line of order.lines) {
    if (CATALOGUE[line.sku].stock < line.quantity) {
      throw new Error(`not enough ${line.sku} in stock`);
    }
  }
  return {
    reservationId: `rsv-${order.orderId}`,
    items: order.lines.map(({ sku, quantity }) => ({ sku, quantity })),
  };
}

// The callback result is the raw string sent with
// SendDurableExecutionCallbackSuccess; this example expects JSON such as
// {"approved":true}.
function parseDecision(result) {
  try {
    const value = JSON.parse(result ?? "null");
    if (value && typeof value === "object") return value;
    return { approved: value === true };
  } catch {
    return { approved: false, reason: `unreadable approval ${JSON.stringify(result)}` };
  }
}

const approvalTimeoutMinutes = Number(process.env.PAYMENT_APPROVAL_TIMEOUT_MINUTES ?? "30");

export const handler = withDurableExecution(async (event, context) => {
  const order = await context.step("validate-order", async () => validateOrder(event));
  context.logger.info("order validated", { orderId: order.orderId, total: order.total });

  const reservation = await context.step("reserve-stock", async () => reserveStock(order));

  // A durable wait: the function returns and Duro re-invokes it when the
  // time is up; no process is kept waiting.
  await context.wait("cool-off", { seconds: 3 });

  const approval = await context.waitForCallback(
    "payment-approval",
    async (callbackId) => {
      // The submitter runs once (it is checkpointed like a step). A real
      // system would send the id to a payment provider; here it is logged.
      const endpoint = process.env.AWS_ENDPOINT_URL_LAMBDA ?? "http://127.0.0.1:9014";
      console.log(
        `Payment approval requested for ${order.orderId} ` +
          `(total $${(order.total / 100).toFixed(2)}). Callback id: ${callbackId}`,
      );
      console.log(
        `Approve it with: aws lambda send-durable-execution-callback-success --endpoint-url ${endpoint} ` +
          `--cli-binary-format raw-in-base64-out --callback-id '${callbackId}' --result '{"approved":true}'`,
      );
    },
    { timeout: { minutes: approvalTimeoutMinutes } },
  );
  const decision = parseDecision(approval);

  if (!decision.approved) {
    await context.step("release-stock", async () => ({ released: reservation.reservationId }));
    return {
      orderId: order.orderId,
      status: "REJECTED",
      reason: decision.reason ?? "payment not approved",
    };
  }

  const confirmation = await context.step("confirm-order", async () => ({
    confirmationNumber: `conf-${order.orderId}`,
    reservationId: reservation.reservationId,
  }));

  return {
    orderId: order.orderId,
    status: "CONFIRMED",
    total: order.total,
    items: order.lines.map(({ sku, quantity }) => ({ sku, quantity })),
    ...confirmation,
  };
});
