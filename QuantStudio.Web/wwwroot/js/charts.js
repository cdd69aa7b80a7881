// A thin layer over plotly.js (lib/plotly.min.js, window.Plotly): one look for every chart, and the three calls we use.

const baseLayout = {
  margin: { l: 50, r: 20, t: 30, b: 40 },
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "rgba(0,0,0,0)",
  font: { size: 12 },
  // Below the x axis title (which sits about 0.2 of the plot's height under the axis), not over it.
  legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top" },
};
const config = { responsive: true, displaylogo: false, displayModeBar: false };

function plotly() {
  if (!window.Plotly) throw new Error("plotly.js (lib/plotly.min.js) did not load; build the web project to install it");
  return window.Plotly;
}

export function layout(title, extra = {}) {
  return { ...baseLayout, title: { text: title, font: { size: 14 } }, ...extra };
}

export function newPlot(el, traces, lay) {
  return plotly().newPlot(el, traces, lay, config);
}

// Appends points to existing traces: xs[i], ys[i] go to trace indices[i].
export function extendTraces(el, xs, ys, indices) {
  return plotly().extendTraces(el, { x: xs, y: ys }, indices);
}

export function react(el, traces, lay) {
  return plotly().react(el, traces, lay, config);
}

// Vertical dashed lines with labels, e.g. QKD phase boundaries.
export function markers(positions) {
  return {
    shapes: positions.map(p => ({ type: "line", x0: p.x, x1: p.x, yref: "paper", y0: 0, y1: 1, line: { dash: "dot", width: 1, color: "#888" } })),
    annotations: positions.map(p => ({ x: p.x, yref: "paper", y: 1, text: p.label, showarrow: false, xanchor: "left", font: { size: 10, color: "#666" } })),
  };
}
