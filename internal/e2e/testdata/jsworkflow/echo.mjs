// A plain (non-durable) function: returns its event.
export const handler = async (event) => event;
