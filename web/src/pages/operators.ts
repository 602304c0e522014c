// Operators: the fleet (nodes, their GPUs with state and holder as an allocation map; the demo
// inventory marked simulated), node actions, and the queue. Refreshed every few seconds.
import { api, type Job, type NodeInfo } from "../api";
import { h, replace } from "../dom";
import { bytes, clock, dateTime } from "../format";
import { stateName, t } from "../i18n";
import type { Ctx } from "../main";
import { type GpuTelemetry, heatColour, nodeTelemetry } from "../telemetry";
import { errorNote, poll, stateBadge } from "../ui";
import { jobsTable } from "./work";

// One GPU of the map: its state and holder; with telemetry, coloured by its utilisation.
function gpuCell(node: NodeInfo, g: NodeInfo["gpus"][number], util: number | null): HTMLElement {
  const kind = g.state !== "healthy" ? "bad" : g.job ? "busy" : "free";
  let label = t("ops.gpu.title", {
    index: g.index, model: g.model,
    state: g.job ? `#${g.job}` : kind === "bad" ? stateName(g.state) : t("ops.legend.free"),
  });
  if (util !== null) label += ` · ${t("ops.util", { util: Math.round(util) })}`;
  const inner = [
    h("span", { class: "idx" }, String(g.index)),
    h("span", { class: "holder" }, g.job ? `#${g.job}` : ""),
    util !== null ? h("span", { class: "util" }, `${Math.round(util)}%`) : null,
  ];
  const cls = `gpu ${kind}${util !== null && kind !== "bad" ? " heat" : ""}`;
  const el = g.job
    ? h("a", { class: cls, href: `/jobs/${g.job}`, title: label, "aria-label": `${node.name}: ${label}` }, inner)
    : h("span", { class: cls, title: label, role: "img", "aria-label": `${node.name}: ${label}` }, inner);
  if (util !== null && kind !== "bad") {
    const c = heatColour(util);
    el.style.background = c.bg;
    el.style.color = c.fg;
  }
  return el;
}

export function renderOperators(main: HTMLElement, _ctx: Ctx): () => void {
  const updated = h("p", { class: "muted", role: "status" }, t("app.loading"));
  const fleet = h("div", { class: "fleet" });
  const queue = h("div");
  const running = h("div");
  const mapTitle = h("h2", { id: "fleet-h" }, t("ops.map"));
  const mapHint = h("p", { class: "muted" }, t("ops.map.hint"));
  main.append(
    h("h1", null, t("ops.title")),
    updated,
    h("section", { "aria-labelledby": "fleet-h" },
      mapTitle,
      mapHint,
      h("ul", { class: "legend" },
        h("li", null, h("span", { class: "gpu free mini", "aria-hidden": "true" }), t("ops.legend.free")),
        h("li", null, h("span", { class: "gpu busy mini", "aria-hidden": "true" }), t("ops.legend.busy")),
        h("li", null, h("span", { class: "gpu bad mini", "aria-hidden": "true" }), t("ops.legend.bad"))),
      fleet),
    h("section", { "aria-labelledby": "queue-h" }, h("h2", { id: "queue-h" }, t("ops.queues")), queue),
    h("section", { "aria-labelledby": "running-h" }, h("h2", { id: "running-h" }, t("ops.running")), running),
  );

  const act = async (node: string, action: string) => {
    try {
      await api("POST", `/api/v1/nodes/${encodeURIComponent(node)}/${action}`);
      await tick();
    } catch (e) {
      fleet.prepend(errorNote(e));
    }
  };

  const tick = async () => {
    try {
      const [n, q, r] = await Promise.all([
        api<{ nodes: NodeInfo[] }>("GET", "/api/v1/nodes"),
        api<{ jobs: Job[] }>("GET", "/api/v1/jobs?state=queued&limit=1000"),
        api<{ jobs: Job[] }>("GET", "/api/v1/jobs?state=running&limit=1000"),
      ]);
      // Utilisation from telemetry when the server has it; else the allocation map alone.
      const tele = await Promise.all(n.nodes.map((node) => nodeTelemetry(node.name, 1)));
      const utilOf = (i: number, index: number): number | null => {
        const g = tele[i]?.find((x: GpuTelemetry) => x.index === index);
        const last = g?.samples?.[g.samples.length - 1];
        return last ? last.util : null;
      };
      const heat = tele.some((x) => x !== null);
      mapTitle.textContent = heat ? t("ops.heat") : t("ops.map");
      mapHint.textContent = heat ? t("ops.heat.hint") : t("ops.map.hint");
      replace(fleet, n.nodes.map((node, ni) => {
        const used = node.gpus.filter((g) => g.job).length;
        const id = `node-${node.id}`;
        return h("article", { class: "node card", "aria-labelledby": id },
          h("header", null,
            h("h3", { id }, node.name),
            stateBadge(node.state),
            node.simulated ? h("span", { class: "badge simulated-badge" }, t("ops.simulated")) : null),
          h("p", { class: "muted" }, t("ops.gpus", { used, total: node.gpus.length }), " · ",
            t("ops.heartbeat", { when: dateTime(node.last_heartbeat) }),
            node.network?.rx_bytes_per_s != null && node.network.tx_bytes_per_s != null
              ? h("span", { class: "node-network" }, " · ", t("ops.network", {
                rx: bytes(node.network.rx_bytes_per_s), tx: bytes(node.network.tx_bytes_per_s) }))
              : null),
          h("div", { class: "gpus" }, node.gpus.map((g) => gpuCell(node, g, utilOf(ni, g.index)))),
          h("div", { class: "actions" }, (["cordon", "drain", "resume"] as const).map((a) =>
            h("button", { type: "button", class: "small", onclick: () => act(node.name, a),
              "aria-label": `${t(`ops.${a}`)} ${node.name}` }, t(`ops.${a}`)))));
      }));
      const waiting = q.jobs.sort((a, b) => (a.queue_position ?? 1e9) - (b.queue_position ?? 1e9));
      replace(queue, waiting.length ? jobsTable(waiting, ["entity", "user"]) : h("p", { class: "empty" }, t("ops.queue.empty")));
      replace(running, r.jobs.length ? jobsTable(r.jobs, ["entity", "user"]) : h("p", { class: "empty" }, t("ops.running.empty")));
      updated.textContent = t("app.updated", { time: clock(new Date()) });
    } catch (e) {
      replace(fleet, errorNote(e));
    }
  };
  return poll(tick, 3000);
}
