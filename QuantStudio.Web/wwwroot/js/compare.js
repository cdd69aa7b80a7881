// Compare: the students' validation curves of the chosen runs overlaid (a teacher trained first is left out, so the
// epochs line up across methods), and accuracy against packed size.
import * as charts from "./charts.js";

const root = document.getElementById("compare");
const ids = root.dataset.runIds.split(",").filter(Boolean).map(Number);

async function load(id) {
  const [run, events] = await Promise.all([
    fetch(`/api/runs/${id}`).then(r => r.json()),
    fetch(`/api/runs/${id}/events?types=epoch_metrics,phase_started&limit=10000`).then(r => r.json()),
  ]);
  return { run: run.run, events };
}

const runs = await Promise.all(ids.map(load));
const label = r => `#${r.run.id} ${r.run.name}`;
const lossTraces = [], accTraces = [];
let perplexity = false;
for (const r of runs) {
  const epochs = r.events.filter(e => e.type === "epoch_metrics" && e.phase !== "teacher");
  const x = epochs.map((_, i) => i + 1);
  lossTraces.push({ name: label(r), x, y: epochs.map(e => e.val_loss), mode: "lines+markers" });
  const ppl = epochs.some(e => e.val_perplexity != null);
  perplexity ||= ppl;
  accTraces.push({ name: label(r), x, y: epochs.map(e => (ppl ? e.val_perplexity : e.val_accuracy)), mode: "lines+markers" });
}
charts.newPlot(document.getElementById("chart-compare-loss"), lossTraces,
  charts.layout("Student validation loss", { xaxis: { title: { text: "student epoch" }, dtick: 1 } }));
charts.newPlot(document.getElementById("chart-compare-accuracy"), accTraces,
  charts.layout(perplexity ? "Student validation perplexity" : "Student validation accuracy",
    { xaxis: { title: { text: "student epoch" }, dtick: 1 }, yaxis: perplexity ? {} : { tickformat: ".0%" } }));

const points = runs.filter(r => r.run.packed_bytes != null && (r.run.accuracy != null || r.run.perplexity != null));
const byPerplexity = points.some(r => r.run.accuracy == null);
// A log axis fitted to one or two nearby sizes spans a sliver of a decade and labels it with stray digits: keep at
// least half a decade either side of the points (the range of a log axis is given in powers of ten).
const sizes = points.map(r => Math.log10(r.run.packed_bytes / 1e6));
const sizeRange = sizes.length ? [Math.min(...sizes) - 0.5, Math.max(...sizes) + 0.5] : undefined;
// Ticks at 1, 2 and 5 times each power of ten in view, written out in full (0.02, 0.05, 0.1).
const sizeTicks = [];
if (sizeRange)
  for (let e = Math.floor(sizeRange[0]); e <= Math.ceil(sizeRange[1]); e++)
    for (const m of [1, 2, 5]) {
      const v = m * Math.pow(10, e);
      if (Math.log10(v) >= sizeRange[0] && Math.log10(v) <= sizeRange[1]) sizeTicks.push(Number(v.toPrecision(1)));
    }
charts.newPlot(document.getElementById("chart-scatter"), [{
  type: "scatter", mode: "markers+text", textposition: "top center",
  x: points.map(r => r.run.packed_bytes / 1e6),
  y: points.map(r => r.run.accuracy ?? r.run.perplexity),
  text: points.map(r => `#${r.run.id} ${r.run.bits ?? 32}b`),
  marker: { size: 12 },
}], charts.layout("Accuracy against packed size", {
  xaxis: { title: { text: "packed MB" }, type: "log", range: sizeRange, tickvals: sizeTicks, ticktext: sizeTicks.map(String) },
  // Accuracy is a fraction: show it in percent, from 0 to 100% (with room for the labels above the points).
  yaxis: byPerplexity ? { title: { text: "perplexity" } } : { title: { text: "test accuracy" }, tickformat: ".0%", range: [0, 1.1] },
}));
root.dataset.ready = "true";
