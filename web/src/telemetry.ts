// GPU telemetry (GET /api/v1/nodes/{name}/telemetry, when the server has it): fetch, and draw
// small accessible SVG charts. Every caller treats "no telemetry" (404, no samples) as normal.
import { api } from "./api";

export interface Sample {
  t: string;
  util: number;
  mem_used_mb: number;
  power_w: number;
  temp_c?: number;
}
export interface GpuTelemetry {
  index: number;
  job: number | null;
  samples: Sample[];
}

export async function nodeTelemetry(node: string, limit: number): Promise<GpuTelemetry[] | null> {
  try {
    const r = await api<{ gpus: GpuTelemetry[] }>(
      "GET", `/api/v1/nodes/${encodeURIComponent(node)}/telemetry?limit=${limit}`);
    return r.gpus.some((g) => g.samples?.length) ? r.gpus : null;
  } catch {
    return null;
  }
}

// Background colour of a utilisation (0-100): light grey-blue to deep orange; the text colour
// that keeps contrast on it.
export function heatColour(util: number): { bg: string; fg: string } {
  const u = Math.max(0, Math.min(100, util)) / 100;
  const hue = 210 - 190 * u;
  const light = 92 - 50 * u;
  return { bg: `hsl(${hue} 70% ${light}%)`, fg: light < 60 ? "#fff" : "#14202e" };
}

const SVG = "http://www.w3.org/2000/svg";

// A line chart of `values` (oldest first) on [0, max], labelled for screen readers.
export function chart(values: number[], max: number, label: string, unit: string): HTMLElement {
  const w = 240;
  const hgt = 64;
  const fig = document.createElement("figure");
  fig.className = "chart";
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
  svg.setAttribute("preserveAspectRatio", "none"); // fills the card; strokes do not scale
  svg.setAttribute("role", "img");
  const last = values.length ? values[values.length - 1] : 0;
  svg.setAttribute("aria-label", `${label}: ${Math.round(last)} ${unit}`);
  const top = max > 0 ? max : Math.max(1, ...values);
  const pts = values.map((v, i) => {
    const x = values.length > 1 ? (i / (values.length - 1)) * w : w;
    const y = hgt - 2 - (Math.max(0, v) / top) * (hgt - 4);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const area = document.createElementNS(SVG, "polygon");
  area.setAttribute("points", `0,${hgt} ${pts.join(" ")} ${w},${hgt}`);
  area.setAttribute("class", "area");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", pts.join(" "));
  line.setAttribute("class", "line");
  svg.append(area, line);
  const cap = document.createElement("figcaption");
  cap.textContent = `${label}: ${Math.round(last)} ${unit}`;
  fig.append(cap, svg);
  return fig;
}
