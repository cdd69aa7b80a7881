// New experiment form: shows the sections of the chosen method (the server renders the same choice without
// script), switches the teacher source, refreshes the size estimate and uploads a teacher's safetensors.
import { bytes, ratio } from "./format.js";

const form = document.getElementById("new-experiment-form");
const field = name => form.elements["Form." + name];

function currentTeacherSource() {
  const checked = form.querySelector('input[name="Form.TeacherSource"]:checked');
  return checked ? checked.value : "train";
}

function applyMethod() {
  const method = field("Method").value;
  for (const section of form.querySelectorAll("[data-methods]")) {
    section.hidden = !section.dataset.methods.split(" ").includes(method);
  }
  const source = currentTeacherSource();
  for (const part of form.querySelectorAll("[data-teacher-source]")) {
    part.hidden = part.dataset.teacherSource !== source;
  }
}

let estimateTimer = null;
function refreshEstimate() {
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(async () => {
    const q = new URLSearchParams({
      arch: field("Student").value,
      dataset: field("Dataset").value,
      width: field("StudentWidth").value || "1",
      depth: field("StudentDepth").value || "1",
      method: field("Method").value,
      bits: field("Bits").value || "4",
      bucket: field("BucketSize").value || "0",
    });
    const res = await fetch("/api/estimate?" + q);
    if (!res.ok) return;
    const e = await res.json();
    const set = (id, v) => { const el = document.getElementById(id); if (el) el.textContent = v; };
    set("estimate-params", e.parameters.toLocaleString("en"));
    set("estimate-fp32", bytes(e.fp32_bytes ?? e.fp32Bytes));
    set("estimate-packed", bytes(e.packed_bytes ?? e.packedBytes));
    set("estimate-ratio", ratio(e.ratio));
  }, 150);
}

async function upload(file) {
  const status = document.getElementById("teacher-upload-status");
  status.textContent = "Uploading " + file.name + "…";
  const res = await fetch("/api/uploads/teacher", { method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" } });
  const body = await res.json();
  if (res.ok) {
    field("TeacherCheckpoint").value = body.name;
    status.textContent = `Stored ${body.name} (${bytes(body.bytes)}, ${body.tensors} tensors).`;
  } else {
    status.textContent = body.detail || body.title || "The upload failed.";
  }
}

form.addEventListener("change", e => {
  if (e.target.id === "field-teacher-file" && e.target.files.length) { upload(e.target.files[0]); return; }
  applyMethod();
  refreshEstimate();
});
form.addEventListener("input", e => { if (e.target.type === "number") refreshEstimate(); });
applyMethod();
