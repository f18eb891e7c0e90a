// Live updates: polling that pauses while the tab is hidden and never
// overlaps itself, and the "live" marker in the top bar.

const marker = document.getElementById("live");
let active = 0;

/**
 * poll calls fn every ms milliseconds (after the previous call finished)
 * until the returned stop function is called or fn returns false. It skips
 * the calls that fall while the page is hidden.
 */
export function poll(fn, ms = 2000) {
  let stopped = false;
  let timer;
  active++;
  marker.hidden = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    if (--active === 0) marker.hidden = true;
  };
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try {
        if ((await fn()) === false) return stop();
      } catch (err) {
        console.error("live update:", err);
      }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  return stop;
}
