// Formatting of times, durations, statuses and payloads.
import { h } from "./dom.js";

/** toMillis turns an AWS timestamp (epoch seconds, fractional) into ms. */
export const toMillis = (ts) => (ts === undefined || ts === null ? null : Math.round(Number(ts) * 1000));

const pad = (n, w = 2) => String(n).padStart(w, "0");

/** fmtTime formats epoch milliseconds as local "YYYY-MM-DD HH:MM:SS.mmm". */
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return "—";
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** fmtDuration formats a duration in milliseconds for people. */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr} h ${m % 60} min`;
  return `${Math.floor(hr / 24)} d ${hr % 24} h`;
}

/** duration is end - start, or now - start while running. */
export const duration = (startMs, endMs) => (startMs === null ? null : (endMs ?? Date.now()) - startMs);

/** badge is a status label, coloured by its class. */
export const badge = (status) => h("span", { class: `badge s-${String(status ?? "").toLowerCase()}`, text: status ?? "?" });

/**
 * pretty returns a payload (a JSON document as a string) indented, or the
 * string unchanged when it is not JSON.
 */
export function pretty(payload) {
  if (payload === undefined || payload === null) return "";
  if (typeof payload !== "string") return JSON.stringify(payload, null, 2);
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

/** code is a <pre> block of text (pretty JSON when it parses). */
export const code = (payload, cls = "") => h("pre", { class: `code ${cls}`.trim(), text: pretty(payload) });

/** errorText renders an AWS ErrorObject as one line. */
export function errorText(err) {
  if (!err) return "";
  return [err.ErrorType, err.ErrorMessage].filter(Boolean).join(": ") || JSON.stringify(err);
}
