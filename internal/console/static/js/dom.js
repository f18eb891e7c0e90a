// Small DOM helpers. Every string given to them becomes a text node or an
// attribute value: nothing here parses markup, so data from the server
// (payloads, names, errors) can never become HTML.

/**
 * h creates an element. props: "class", "text", "on<event>" handlers,
 * "style" (an object of CSS properties), "dataset", "value", "checked",
 * "disabled", "hidden"; anything else is set with setAttribute. Children may
 * be strings, numbers, nodes, arrays of those, or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = String(value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (["value", "checked", "disabled", "hidden"].includes(key)) el[key] = value;
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/** append adds children (see h) to a node. */
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** replace swaps a node's children for new ones. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/**
 * section keeps a container's content until its key changes, so that a
 * live refresh does not rebuild (and reset) what has not changed, such as a
 * form being filled in. build is called with no argument and returns nodes.
 */
export function section(el, key, build) {
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  replace(el, build());
}
