// Operators: the fleet (nodes, their GPUs with state and holder as an allocation map; the demo
// inventory marked simulated), node actions, and the queue. Refreshed every few seconds.
import { api, type Job, type NodeInfo } from "../api";
import { h, replace } from "../dom";
import { clock, dateTime } from "../format";
import { stateName, t } from "../i18n";
import type { Ctx } from "../main";
import { errorNote, poll, stateBadge } from "../ui";
import { jobsTable } from "./work";

function gpuCell(node: NodeInfo, g: NodeInfo["gpus"][number]): HTMLElement {
  const kind = g.state !== "healthy" ? "bad" : g.job ? "busy" : "free";
  const label = t("ops.gpu.title", {
    index: g.index, model: g.model,
    state: g.job ? `#${g.job}` : kind === "bad" ? stateName(g.state) : t("ops.legend.free"),
  });
  const inner = [h("span", { class: "idx" }, String(g.index)), h("span", { class: "holder" }, g.job ? `#${g.job}` : "")];
  return g.job
    ? h("a", { class: `gpu ${kind}`, href: `/jobs/${g.job}`, title: label, "aria-label": `${node.name}: ${label}` }, inner)
    : h("span", { class: `gpu ${kind}`, title: label, role: "img", "aria-label": `${node.name}: ${label}` }, inner);
}

export function renderOperators(main: HTMLElement, _ctx: Ctx): () => void {
  const updated = h("p", { class: "muted", role: "status" }, t("app.loading"));
  const fleet = h("div", { class: "fleet" });
  const queue = h("div");
  const running = h("div");
  main.append(
    h("h1", null, t("ops.title")),
    updated,
    h("section", { "aria-labelledby": "fleet-h" },
      h("h2", { id: "fleet-h" }, t("ops.map")),
      h("p", { class: "muted" }, t("ops.map.hint")),
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
      replace(fleet, n.nodes.map((node) => {
        const used = node.gpus.filter((g) => g.job).length;
        const id = `node-${node.id}`;
        return h("article", { class: "node card", "aria-labelledby": id },
          h("header", null,
            h("h3", { id }, node.name),
            stateBadge(node.state),
            node.simulated ? h("span", { class: "badge simulated-badge" }, t("ops.simulated")) : null),
          h("p", { class: "muted" }, t("ops.gpus", { used, total: node.gpus.length }), " · ",
            t("ops.heartbeat", { when: dateTime(node.last_heartbeat) })),
          h("div", { class: "gpus" }, node.gpus.map((g) => gpuCell(node, g))),
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
