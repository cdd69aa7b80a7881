export function bytes(b) {
  if (b === null || b === undefined) return "–";
  const units = ["B", "kB", "MB", "GB"];
  let i = 0;
  while (b >= 1000 && i < units.length - 1) { b /= 1000; i++; }
  return (i === 0 ? b.toFixed(0) : b.toFixed(2)) + " " + units[i];
}
export const ratio = r => (r === null || r === undefined ? "–" : r.toFixed(1) + "×");
export const percent = f => (f === null || f === undefined ? "–" : (f * 100).toFixed(1) + "%");
export function text(tag, content, cls) {
  const el = document.createElement(tag);
  el.textContent = content;
  if (cls) el.className = cls;
  return el;
}
