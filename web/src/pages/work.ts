// My work: the caller's jobs (or every job of its entity), newest first, refreshed every few
// seconds: state, queue position, estimated start, why it waits, live cost.
import { api, type Job } from "../api";
import { h, replace } from "../dom";
import { clock, dateTime, money } from "../format";
import { type Key, t } from "../i18n";
import type { Ctx } from "../main";
import { errorNote, poll, stateBadge } from "../ui";

let showAll = false;

export function jobsTable(jobs: Job[], cols: ("user" | "entity")[] = ["user"]): HTMLElement {
  const head: Key[] = ["col.id", "col.name", "col.kind", "col.state", ...cols.map((c) => `col.${c}` as Key),
    "col.gpus", "col.node", "col.queue", "col.start", "col.reason", "col.cost"];
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("work.caption") },
    h("table", { class: "jobs" },
      h("caption", { class: "sr-only" }, t("work.caption")),
      h("thead", null, h("tr", null, head.map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", null, jobs.map((j) =>
        h("tr", { "data-job": j.id, "data-state": j.state },
          // data-label: the column's name, shown beside each cell when rows stack on phones.
          h("td", { "data-label": t("col.id") }, h("a", { href: `/jobs/${j.id}` }, `#${j.id}`)),
          h("td", { "data-label": t("col.name") }, j.name),
          h("td", { "data-label": t("col.kind") }, t(`kind.${j.kind}` as Key)),
          h("td", { "data-label": t("col.state") }, stateBadge(j.state)),
          cols.map((c) => h("td", { "data-label": t(`col.${c}`) }, c === "user" ? j.user : j.entity)),
          h("td", { "data-label": t("col.gpus") }, `${j.gpus} × ${j.gpu_type ?? (j.gpu_types.join("|") || t("any"))}`),
          h("td", { "data-label": t("col.node") }, j.node ?? "—"),
          h("td", { class: "num", "data-label": t("col.queue") }, j.queue_position ?? "—"),
          h("td", { "data-label": t("col.start") }, j.state === "queued" ? dateTime(j.estimated_start) : "—"),
          h("td", { class: "reason", "data-label": t("col.reason") }, j.state === "queued" ? j.reason : ""),
          h("td", { class: "num cost", "data-label": t("col.cost") }, money(j.cost)),
        ))),
    ));
}

export function renderWork(main: HTMLElement, ctx: Ctx): () => void {
  const me = ctx.who.user?.name;
  const toggle = h("input", { id: "show-all", type: "checkbox", checked: showAll });
  const updated = h("p", { class: "muted", role: "status" }, t("app.loading"));
  const list = h("div");
  main.append(
    h("div", { class: "title-row" },
      h("h1", null, t("work.title")),
      h("a", { class: "button primary", href: "/request" }, t("nav.request"))),
    h("div", { class: "check" }, toggle, h("label", { for: "show-all" }, t("work.all"))),
    updated,
    list,
  );
  let last: Job[] = [];
  const draw = () => {
    const jobs = last.filter((j) => showAll || j.user === me).sort((a, b) => b.id - a.id);
    replace(list, jobs.length ? jobsTable(jobs) : h("p", { class: "empty" }, t("work.empty")));
  };
  toggle.addEventListener("change", () => {
    showAll = toggle.checked;
    draw();
  });
  return poll(async () => {
    try {
      const r = await api<{ jobs: Job[] }>("GET", "/api/v1/jobs?limit=1000");
      last = r.jobs;
      draw();
      updated.textContent = t("app.updated", { time: clock(new Date()) });
    } catch (e) {
      replace(list, errorNote(e));
    }
  }, 2000);
}
