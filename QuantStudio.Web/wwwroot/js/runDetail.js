// Run detail: replays the run's history and follows it live (batched frames from the hub), drawing the loss,
// accuracy and learning-rate charts with phase markers, the per-layer histogram with its quantization levels,
// the compression panel and the log.
import { followRun } from "./hub.js";
import * as charts from "./charts.js";
import { bytes, ratio, text } from "./format.js";
import { logLine } from "./logLines.js";

const root = document.getElementById("run-detail");
const runId = Number(root.dataset.runId);
const startedActive = root.dataset.status === "queued" || root.dataset.status === "running";

const state = {
  x: 0, offset: 0,              // a monotonic step axis across phases
  epochIndex: 0,
  steps: { x: [], loss: [], lr: [] },
  epochs: { x: [], step: [], trainLoss: [], valLoss: [], trainAcc: [], valAcc: [], ppl: [] },
  phasesStep: [], phasesEpoch: [],
  layers: new Map(),
  compression: null,
  status: root.dataset.status,
};
let firstFrame = true;
// The trace arrays grow in place, and Plotly.react compares data by reference: a new datarevision on every draw
// tells it the data changed, so the axes follow the new points.
let revision = 0;
let dirty = { steps: false, epochs: false, layers: false, compression: false };

const lossEl = document.getElementById("chart-loss");
const accEl = document.getElementById("chart-accuracy");
const lrEl = document.getElementById("chart-lr");
const histEl = document.getElementById("chart-histogram");
const layerSelect = document.getElementById("layer-select");
const logEl = document.getElementById("log");
const statusEl = document.getElementById("run-status");

function apply(e) {
  switch (e.type) {
    case "run_started":
      setStatus("running");
      break;
    case "phase_started":
      state.phasesStep.push({ x: state.x, label: e.name });
      state.phasesEpoch.push({ x: state.epochIndex + 0.5, label: e.name });
      dirty.steps = dirty.epochs = true;
      break;
    case "step_metrics": {
      let x = e.step + state.offset;
      if (x <= state.x) { state.offset = state.x - e.step + 1; x = state.x + 1; }
      state.x = x;
      state.steps.x.push(x); state.steps.loss.push(e.loss); state.steps.lr.push(e.learning_rate);
      dirty.steps = true;
      break;
    }
    case "epoch_metrics":
      state.epochIndex += 1;
      state.epochs.x.push(state.epochIndex); state.epochs.step.push(state.x);
      state.epochs.trainLoss.push(e.train_loss); state.epochs.valLoss.push(e.val_loss);
      state.epochs.trainAcc.push(e.train_accuracy); state.epochs.valAcc.push(e.val_accuracy); state.epochs.ppl.push(e.val_perplexity);
      dirty.epochs = true;
      break;
    case "layer_snapshot":
      state.layers.set(e.layer, e);
      dirty.layers = true;
      break;
    case "compression_report":
      state.compression = e;
      dirty.compression = true;
      break;
    case "checkpoint_saved":
      showDownload(e.file, e.bytes);
      break;
    case "run_finished": setStatus("finished"); break;
    case "run_failed": setStatus("failed"); break;
    case "run_cancelled": setStatus("cancelled"); break;
  }
  const line = logLine(e);
  if (line) appendLog(line);
}

// A file the run saves while it trains (its teacher, its training checkpoint, at the end model.qsc) joins the
// downloads at once, or updates the size shown; the reload at the end lists the run's final files.
function showDownload(path, size) {
  const name = path.split(/[\\/]/).pop();
  const key = name.replaceAll(".", "-");
  let li = document.getElementById("download-" + key)?.parentElement ?? document.getElementById("live-download-" + key);
  if (!li) {
    document.getElementById("downloads-empty")?.remove();
    const a = document.createElement("a");
    a.href = `/api/runs/${runId}/artifacts/${encodeURIComponent(name)}`;
    a.download = "";
    a.textContent = name;
    li = document.createElement("li");
    li.id = "live-download-" + key;
    li.append(a, " ", text("span", "", "hint"));
    document.getElementById("downloads").append(li);
  }
  const hint = li.querySelector(".hint");
  if (hint) hint.textContent = bytes(size);
}

function setStatus(s) {
  state.status = s;
  statusEl.textContent = s;
  statusEl.className = "badge status-" + s;
  root.dataset.liveStatus = s;
}

function appendLog(e) {
  const li = document.createElement("li");
  li.className = "log-" + (e.level || "info").toLowerCase();
  li.append(text("time", (e.time || "").substring(11, 19)), document.createTextNode(" " + e.message));
  logEl.append(li);
}

let lossPlotted = false;
function drawSteps() {
  const lossTraces = [
    { name: "train loss (step)", x: state.steps.x, y: state.steps.loss, mode: "lines", line: { width: 1 } },
    { name: "val loss (epoch)", x: state.epochs.step, y: state.epochs.valLoss, mode: "lines+markers" },
  ];
  revision += 1;
  const lay = charts.layout("Loss", { xaxis: { title: { text: "step" } }, datarevision: revision, ...charts.markers(state.phasesStep) });
  charts.react(lossEl, lossTraces, lay);
  charts.react(lrEl, [{ name: "learning rate", x: state.steps.x, y: state.steps.lr, mode: "lines" }],
    charts.layout("Learning rate", { xaxis: { title: { text: "step" } }, datarevision: revision, ...charts.markers(state.phasesStep) }));
  lossPlotted = true;
  lossEl.dataset.points = String(state.steps.x.length);
}

function drawEpochs() {
  const perplexity = state.epochs.ppl.some(v => v !== null && v !== undefined);
  const traces = perplexity
    ? [{ name: "val perplexity", x: state.epochs.x, y: state.epochs.ppl, mode: "lines+markers" }]
    : [
        { name: "train accuracy", x: state.epochs.x, y: state.epochs.trainAcc, mode: "lines+markers" },
        { name: "val accuracy", x: state.epochs.x, y: state.epochs.valAcc, mode: "lines+markers" },
      ];
  revision += 1;
  charts.react(accEl, traces, charts.layout(perplexity ? "Perplexity" : "Accuracy",
    { xaxis: { title: { text: "epoch" }, dtick: 1 }, datarevision: revision, yaxis: perplexity ? {} : { tickformat: ".0%" }, ...charts.markers(state.phasesEpoch) }));
  if (!dirty.steps && lossPlotted) drawSteps(); // val loss lives on the loss chart
}

function drawLayers() {
  const names = [...state.layers.keys()];
  const current = layerSelect.value;
  if (layerSelect.options.length !== names.length) {
    layerSelect.replaceChildren(...names.map(n => { const o = text("option", n); o.value = n; return o; }));
    if (names.includes(current)) layerSelect.value = current;
  }
  drawHistogram();
  const empty = document.getElementById("layers-empty");
  if (empty && names.length) empty.remove();
}

function drawHistogram() {
  const snap = state.layers.get(layerSelect.value) || state.layers.values().next().value;
  if (!snap) return;
  const edges = snap.histogram_edges, counts = snap.histogram_counts;
  const centers = counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  const widths = counts.map((_, i) => edges[i + 1] - edges[i]);
  const levels = snap.levels || [];
  // The title names the layer; bits, bucket and which snapshot it is are in the figures under the chart.
  const lay = charts.layout(`${snap.layer}: ${levels.length} levels`, {
    bargap: 0, showlegend: false, xaxis: { title: { text: "weight" } }, yaxis: { title: { text: "count" } },
    shapes: levels.map(v => ({ type: "line", x0: v, x1: v, yref: "paper", y0: 0, y1: 1, line: { color: "#d62728", width: 1 } })),
  });
  charts.react(histEl, [{ type: "bar", x: centers, y: counts, width: widths, marker: { color: "#1f77b4" }, name: "weights" }], lay);
  histEl.dataset.layer = snap.layer;
  drawLayerFigures(snap);
}

// The numbers of the layer the histogram shows (the same list LayerPanel.razor renders).
function drawLayerFigures(snap) {
  const g = v => String(Number(v.toPrecision(4)));
  const s = snap.scales || { min: 0, mean: 0, max: 0 };
  const figures = [
    ["Shape", snap.shape.join("×"), "layer-shape"],
    ["Bits", snap.bits, "layer-bits"],
    ["Bucket", snap.bucket_size ?? "tensor", "layer-bucket"],
    ["Levels", (snap.levels || []).length, "layer-levels"],
    ["Scale min / mean / max", `${g(s.min)} / ${g(s.mean)} / ${g(s.max)}`, "layer-scales"],
    ["Snapshot", snap.phase === "final" ? "after training" : `${snap.phase}, epoch ${snap.epoch}`, "layer-snapshot"],
  ];
  let dl = document.getElementById("layer-figures");
  if (!dl) {
    dl = document.createElement("dl");
    dl.className = "figures";
    dl.id = "layer-figures";
    document.getElementById("layer-panel").append(dl);
  }
  dl.replaceChildren(...figures.flatMap(([k, v, id]) => { const dd = text("dd", String(v)); dd.id = id; return [text("dt", k), dd]; }));
}

function drawCompression() {
  const c = state.compression;
  const panel = document.getElementById("compression-panel");
  const figures = [["fp32", bytes(c.fp32_bytes)], ["Packed", bytes(c.packed_bytes)], ["Huffman", bytes(c.huffman_bytes)],
    ["Bits per weight", c.bits_per_weight.toFixed(2)], ["Ratio", ratio(c.compression_ratio)]];
  const ids = ["compression-fp32", "compression-packed", "compression-huffman", "compression-bpw", "compression-ratio"];
  const dl = document.createElement("dl");
  dl.className = "figures";
  figures.forEach(([k, v], i) => { dl.append(text("dt", k)); const dd = text("dd", v); dd.id = ids[i]; dl.append(dd); });
  const table = document.createElement("table");
  table.id = "compression-layers";
  const head = document.createElement("tr");
  ["Layer", "Weights", "Bits", "Bucket", "fp32", "Packed", "Huffman", "Huffman bits"].forEach(h => head.append(text("th", h)));
  const thead = document.createElement("thead"); thead.append(head);
  const tbody = document.createElement("tbody");
  for (const l of c.layers) {
    const tr = document.createElement("tr");
    [l.layer, l.elements.toLocaleString("en"), l.bits, l.bucket_size ?? "tensor", bytes(l.fp32_bytes), bytes(l.packed_bytes),
      bytes(l.huffman_bytes), l.huffman_mean_bits.toFixed(2)].forEach(v => tr.append(text("td", String(v))));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  panel.replaceChildren(text("h2", "Compression"), dl, table);
}

function render() {
  if (dirty.steps) drawSteps();
  if (dirty.epochs) drawEpochs();
  if (dirty.layers) drawLayers();
  if (dirty.compression) drawCompression();
  dirty = { steps: false, epochs: false, layers: false, compression: false };
}

layerSelect.addEventListener("change", drawHistogram);

followRun(runId, 0, frame => {
  if (firstFrame) { logEl.replaceChildren(); firstFrame = false; }
  for (const e of frame.events) apply(e);
  render();
  root.dataset.lastSeq = String(frame.last_seq);
}, () => {
  // The run is over: reload once so the buttons and downloads match its final state.
  if (startedActive) setTimeout(() => location.reload(), 800);
}).catch(err => console.error(err));
