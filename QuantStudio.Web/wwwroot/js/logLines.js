// The line an event adds to a run's log panel: log messages and milestones (start, phases, epochs, saved files, the end).
// Step metrics, snapshots and the per-epoch training checkpoint add none. RunLogLine.cs writes the same lines on the server.
import { bytes, percent } from "./format.js";

const count = (n, noun) => (n === 1 ? `1 ${noun}` : `${n} ${noun}s`);
const num = n => Number(n).toLocaleString("en");
const fixed = (v, digits) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));

function started(e) {
  const parts = [`started ${e.method} on ${e.dataset}`];
  if (e.teacher) parts.push(`teacher ${e.teacher} (${num(e.teacher_params)} parameters)`);
  parts.push(`student ${e.student} (${num(e.student_params)} parameters)`);
  if (e.bits !== null && e.bits !== undefined) parts.push(`${e.bits} bits`);
  parts.push(`${e.precision}, ${count(e.threads, "thread")}`);
  return parts.join(", ");
}

function epoch(e) {
  const quality = e.val_perplexity !== null && e.val_perplexity !== undefined
    ? `val perplexity ${fixed(e.val_perplexity, 2)}` : `val accuracy ${percent(e.val_accuracy)}`;
  return `${e.phase} epoch ${e.epoch}: train loss ${fixed(e.train_loss, 3)}, val loss ${fixed(e.val_loss, 3)}, ${quality} (${fixed(e.epoch_seconds, 1)} s)`;
}

function finished(s) {
  let line = s.wall_seconds !== undefined ? `finished in ${fixed(s.wall_seconds, 1)} s` : "finished";
  if (s.student_accuracy !== undefined)
    line += `: student accuracy ${percent(s.student_accuracy)}` + (s.teacher_accuracy !== undefined ? ` (teacher ${percent(s.teacher_accuracy)})` : "");
  else if (s.student_perplexity !== undefined)
    line += `: student perplexity ${fixed(s.student_perplexity, 2)}` + (s.teacher_perplexity !== undefined ? ` (teacher ${fixed(s.teacher_perplexity, 2)})` : "");
  return line;
}

// { level, message, time } or null.
export function logLine(e) {
  const line = (level, message) => ({ level, message, time: e.time });
  switch (e.type) {
    case "log": return line((e.level || "info").toLowerCase(), e.message);
    case "run_started": return line("info", started(e));
    case "phase_started": return line("info", e.epochs > 0 ? `phase ${e.name}: ${count(e.epochs, "epoch")}` : `phase ${e.name}`);
    case "epoch_metrics": return line("info", epoch(e));
    case "checkpoint_saved": return e.kind === "training" ? null : line("info", `saved ${e.file.split("/").pop()} (${bytes(e.bytes)})`);
    case "run_finished": return line("info", finished(e.summary || {}));
    case "run_failed": return line("error", e.error);
    case "run_cancelled": return line("warning", e.reason);
    default: return null;
  }
}
