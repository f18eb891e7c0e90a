// The console's entry point: a hash router over the three pages. Each page
// function renders into <main> and returns a cleanup function that stops
// its live updates when the route changes.
import { h, replace } from "./dom.js";
import { executionsPage } from "./executions.js";
import { executionPage } from "./execution.js";
import { functionsPage, functionPage } from "./functions.js";

const main = document.getElementById("main");

const routes = [
  [/^\/executions\/(.+)$/, (m) => executionPage(main, decodeURIComponent(m[1]))],
  [/^\/executions\/?$/, (_, q) => executionsPage(main, q)],
  [/^\/functions\/(.+)$/, (m) => functionPage(main, decodeURIComponent(m[1]))],
  [/^\/functions\/?$/, () => functionsPage(main)],
];

let cleanup = null;

function route() {
  cleanup?.();
  cleanup = null;
  const raw = location.hash.replace(/^#/, "") || "/executions";
  const cut = raw.indexOf("?");
  const path = cut < 0 ? raw : raw.slice(0, cut);
  const q = new URLSearchParams(cut < 0 ? "" : raw.slice(cut + 1));
  const section = path.split("/")[1];
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.classList.toggle("active", a.dataset.nav === section);
  }
  for (const [re, page] of routes) {
    const m = path.match(re);
    if (m) {
      cleanup = page(m, q) ?? null;
      return;
    }
  }
  replace(main, h("h1", { text: "Not found" }), h("p", {}, "No page at ", h("code", { text: path }), "."));
}

window.addEventListener("hashchange", route);
route();
