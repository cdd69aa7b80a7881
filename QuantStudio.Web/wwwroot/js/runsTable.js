// Runs table: keeps status, accuracy, packed size and ratio current from the hub's run-list stream.
import { followRuns } from "./hub.js";
import { bytes, ratio, percent, text } from "./format.js";

const tbody = document.querySelector("#runs-table tbody");

function cells(run) {
  return {
    status: run.status,
    method: run.method,
    dataset: run.dataset,
    bits: run.bits ?? "fp32",
    accuracy: run.accuracy != null ? percent(run.accuracy) : run.perplexity != null ? "ppl " + run.perplexity.toFixed(2) : "–",
    packed: bytes(run.packed_bytes),
    ratio: ratio(run.compression_ratio),
  };
}

function update(row, run) {
  const values = cells(run);
  row.className = "status-" + run.status;
  for (const td of row.querySelectorAll("td[data-field]")) {
    const v = String(values[td.dataset.field]);
    if (td.dataset.field === "status") {
      const badge = td.querySelector(".badge") || td.appendChild(document.createElement("span"));
      badge.className = "badge";
      badge.textContent = v;
    } else if (td.textContent !== v) {
      td.textContent = v;
    }
  }
}

function insert(run) {
  const row = document.createElement("tr");
  row.id = "run-row-" + run.id;
  row.dataset.runId = run.id;
  const check = document.createElement("input");
  check.type = "checkbox"; check.name = "ids"; check.value = run.id; check.id = "compare-" + run.id;
  const link = text("a", run.name); link.href = "/runs/" + run.id;
  const tdCheck = document.createElement("td"); tdCheck.append(check);
  const tdName = document.createElement("td"); tdName.append(link);
  row.append(tdCheck, text("td", String(run.id)), tdName);
  for (const f of ["status", "method", "dataset", "bits", "accuracy", "packed", "ratio"]) {
    const td = document.createElement("td"); td.dataset.field = f; row.append(td);
  }
  document.getElementById("runs-empty")?.remove();
  tbody.prepend(row);
  update(row, run);
}

followRuns(change => {
  const row = document.getElementById("run-row-" + change.run_id);
  if (change.kind === "deleted") { row?.remove(); return; }
  if (row) update(row, change.run);
  else if (!location.search.includes("status=") && !location.search.includes("method=") && !location.search.includes("dataset=")) insert(change.run);
}).catch(err => console.error(err));
