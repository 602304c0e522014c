// Job page: the job's facts (refreshed while it is not final), its logs (polled), cancel.
// Another entity's job answers 404 and the page says "not found".
import { api, ApiError, apiText, FINAL_STATES, type Job, type NetworkTraffic, type NodeInfo } from "../api";
import { h, replace } from "../dom";
import { bytes, dateTime, duration, money, number } from "../format";
import { type Key, t } from "../i18n";
import type { Ctx } from "../main";
import { chart, nodeTelemetry } from "../telemetry";
import { errorNote, poll, stateBadge } from "../ui";

// A container job's traffic: its totals, and its rates while it runs.
function networkText(n: NetworkTraffic): string {
  const totals = t("net.totals", { rx: bytes(n.rx_bytes), tx: bytes(n.tx_bytes) });
  if (n.rx_bytes_per_s === null || n.tx_bytes_per_s === null) return totals;
  return `${totals} (${t("net.rates", { rx: bytes(n.rx_bytes_per_s), tx: bytes(n.tx_bytes_per_s) })})`;
}

export function renderJob(main: HTMLElement, _ctx: Ctx, params: Record<string, string>): () => void {
  const id = params.id;
  const heading = h("h1", null, t("job.title", { id }));
  const facts = h("div", null, h("p", { role: "status" }, t("app.loading")));
  const actions = h("div", { class: "actions" });
  const logs = h("pre", { class: "logs", id: "logs", tabindex: "0", "aria-label": t("job.logs") });
  const logSection = h("section", { "aria-labelledby": "logs-h", hidden: true },
    h("h2", { id: "logs-h" }, t("job.logs")), logs);
  const charts = h("div", { class: "charts" });
  const chartSection = h("section", { "aria-labelledby": "charts-h", hidden: true },
    h("h2", { id: "charts-h" }, t("job.charts")), charts);
  main.append(h("p", null, h("a", { href: "/work" }, `← ${t("job.back")}`)), heading, facts, actions,
    chartSection, logSection);

  const simulatedNodes = new Set<string>();
  api<{ nodes: NodeInfo[] }>("GET", "/api/v1/nodes")
    .then((r) => r.nodes.filter((n) => n.simulated).forEach((n) => simulatedNodes.add(n.name)))
    .catch(() => {});

  let job: Job | null = null;
  let confirming = false;
  let notFound = false;

  const drawActions = () => {
    if (!job || FINAL_STATES.includes(job.state)) return replace(actions);
    if (!confirming) {
      return replace(actions, h("button", { type: "button", class: "danger", id: "cancel",
        onclick: () => { confirming = true; drawActions(); (actions.querySelector("#confirm-cancel") as HTMLElement)?.focus(); } },
        t("job.cancel")));
    }
    replace(actions,
      h("button", { type: "button", class: "danger", id: "confirm-cancel", onclick: async () => {
        try {
          job = await api<Job>("POST", `/api/v1/jobs/${id}/cancel`);
          confirming = false;
          draw();
        } catch (e) {
          actions.append(errorNote(e));
        }
      } }, t("job.cancel.confirm", { id })),
      h("button", { type: "button", onclick: () => { confirming = false; drawActions(); } }, t("job.cancel.keep")));
  };

  const draw = () => {
    if (!job) return;
    const j = job;
    const row = (k: Key | string, v: Node | string) => [h("dt", null, k.includes(".") ? t(k as Key) : k), h("dd", null, v)];
    const node = j.node ? `${j.node}${simulatedNodes.has(j.node) ? ` (${t("ops.simulated")})` : ""}` : "—";
    replace(facts, h("dl", { class: "facts" },
      row("col.state", h("span", null, stateBadge(j.state), j.releasing ? ` (${t("job.releasing")})` : "")),
      row("col.name", j.name),
      row("col.kind", t(`kind.${j.kind}` as Key)),
      row("col.user", `${j.user} · ${j.entity}`),
      row("col.gpus", `${j.gpus} × ${j.gpu_type ?? (j.gpu_types.join("|") || t("any"))}`),
      row("col.node", node),
      j.gpu_ids.length ? row("job.gpuids", j.gpu_ids.join(", ")) : null,
      j.state === "queued" ? row("col.queue", String(j.queue_position ?? "—")) : null,
      j.state === "queued" ? row("col.start", dateTime(j.estimated_start)) : null,
      j.reason ? row("col.reason", j.reason) : null,
      row("col.cost", h("span", { id: "job-cost", class: "cost" }, money(j.cost))),
      row("col.submitted", dateTime(j.submitted_at)),
      row("job.started", dateTime(j.started_at)),
      row("job.finished", dateTime(j.finished_at)),
      j.exit_code !== null ? row("job.exit", String(j.exit_code)) : null,
      row("job.walltime", duration(j.walltime_s)),
      j.environment ? row("job.environment", j.environment) : null,
      j.command.length ? row("job.command", h("code", null, j.command.join(" "))) : null,
      j.telemetry ? row("job.gpuuse", h("span", { id: "job-gpuuse" }, t("job.gpuuse.value", {
        util: number(j.telemetry.avg_util_pct, 1),
        mem: number(j.telemetry.peak_mem_mb / 1024, 1),
        energy: number(j.telemetry.energy_wh, 2),
        idle: duration(j.telemetry.idle_gpu_s),
      }))) : null,
      j.network ? row("job.network", h("span", { id: "job-network" }, networkText(j.network))) : null,
      j.url ? row("job.notebook", h("a", { href: j.url, target: "_blank", rel: "noopener" }, j.url)) : null,
    ));
    drawActions();
  };

  const stopJob = poll(async () => {
    try {
      job = await api<Job>("GET", `/api/v1/jobs/${encodeURIComponent(id)}`);
      draw();
      logSection.hidden = false;
      return FINAL_STATES.includes(job.state) && !job.releasing;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        notFound = true;
        replace(facts, h("p", { class: "error", role: "alert", id: "not-found" }, t("job.notfound", { id })));
        replace(actions);
        return true;
      }
      replace(facts, errorNote(e));
      return false;
    }
  }, 1500);

  let finalLogsRead = false;
  const stopLogs = poll(async () => {
    if (notFound) return true;
    if (!job) return false;
    const final = FINAL_STATES.includes(job.state);
    const text = await apiText(`/api/v1/jobs/${id}/logs?tail_bytes=65536`);
    const atBottom = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
    logs.textContent = text || t("job.logs.empty");
    if (atBottom) logs.scrollTop = logs.scrollHeight;
    if (final) {
      // One more read after the job ended: the agent may ship the last lines a moment later.
      if (finalLogsRead) return true;
      finalLogsRead = true;
    }
    return false;
  }, 2000);

  // Live GPU charts of a running job (when the server keeps telemetry): the job's devices on
  // its node, the last 60 samples; mean utilisation, total memory and power.
  const stopCharts = poll(async () => {
    if (notFound) return true;
    if (!job || !job.node || job.gpu_ids.length === 0) return false;
    if (job.state !== "running") return FINAL_STATES.includes(job.state);
    const gpus = await nodeTelemetry(job.node, 60);
    const mine = (gpus ?? []).filter((g) => job!.gpu_ids.includes(g.index) && g.samples.length);
    if (mine.length === 0) return false;
    const n = Math.min(...mine.map((g) => g.samples.length));
    const at = (f: (s: (typeof mine)[number]["samples"][number]) => number, mean: boolean) =>
      Array.from({ length: n }, (_, i) => {
        const sum = mine.reduce((a, g) => a + f(g.samples[g.samples.length - n + i]), 0);
        return mean ? sum / mine.length : sum;
      });
    replace(charts,
      chart(at((s) => s.util, true), 100, t("job.util"), "%"),
      chart(at((s) => s.mem_used_mb / 1024, false), 0, t("job.mem"), "GiB"),
      chart(at((s) => s.power_w, false), 0, t("job.power"), "W"));
    chartSection.hidden = false;
    return false;
  }, 3000);

  return () => {
    stopJob();
    stopLogs();
    stopCharts();
  };
}
