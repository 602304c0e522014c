// The demand chart of the capacity page: weekly GPU-hours of history (solid) and forecast
// (dashed) against the class's capacity (a horizontal line), as an accessible SVG whose label
// says it in words.
const SVG = "http://www.w3.org/2000/svg";

function el(name: string, attrs: Record<string, string>): SVGElement {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export function forecastChart(history: number[], forecast: number[], capacity: number, label: string): HTMLElement {
  const w = 640;
  const hgt = 160;
  const all = [...history, ...forecast];
  const top = Math.max(1, capacity * 1.15, ...all) * 1.05;
  const n = Math.max(2, all.length);
  const x = (i: number) => ((i / (n - 1)) * (w - 4) + 2).toFixed(1);
  const y = (v: number) => (hgt - 2 - (Math.max(0, v) / top) * (hgt - 4)).toFixed(1);
  const svg = el("svg", {
    viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: "none", role: "img", "aria-label": label, class: "forecast",
  });
  if (capacity > 0) {
    svg.append(el("line", { x1: "0", x2: String(w), y1: y(capacity), y2: y(capacity), class: "capacity" }));
  }
  if (history.length) {
    svg.append(el("polyline", { class: "history", points: history.map((v, i) => `${x(i)},${y(v)}`).join(" ") }));
  }
  if (forecast.length) {
    // The forecast starts where the history ends, so that the two lines join.
    const start = history.length ? [[history.length - 1, history[history.length - 1]]] : [];
    const pts = [...start, ...forecast.map((v, i) => [history.length + i, v])];
    svg.append(el("polyline", { class: "forecast-line", points: pts.map(([i, v]) => `${x(i)},${y(v)}`).join(" ") }));
  }
  const fig = document.createElement("figure");
  fig.className = "chart wide";
  fig.append(svg);
  return fig;
}
