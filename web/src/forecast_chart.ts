// The demand chart of the capacity page: weekly GPU-hours of history (solid) and forecast
// (dashed) against the class's capacity (a horizontal line), with vertical marks at the week
// demand exceeds capacity and the week by which to order, as an accessible SVG whose label says
// it in words (the page's sentences give the dates).
const SVG = "http://www.w3.org/2000/svg";

function el(name: string, attrs: Record<string, string>): SVGElement {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// A vertical mark at week `at` (0 = the first week of history; may be fractional), with a
// tooltip; `kind` is its CSS class ("exceed" or "order").
export interface ChartMark {
  at: number;
  kind: string;
  title: string;
}

export function forecastChart(history: number[], forecast: number[], capacity: number, label: string,
  marks: ChartMark[] = []): HTMLElement {
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
  for (const m of marks) {
    if (!(m.at >= 0 && m.at <= n - 1)) continue; // outside the chart: the sentence says it
    const line = el("line", { x1: x(m.at), x2: x(m.at), y1: "0", y2: String(hgt), class: `mark mark-${m.kind}` });
    const tip = el("title", {});
    tip.textContent = m.title;
    line.append(tip);
    svg.append(line);
  }
  const fig = document.createElement("figure");
  fig.className = "chart wide";
  fig.append(svg);
  return fig;
}
