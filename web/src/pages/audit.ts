// Audit trail (platform and entity admins): every change and every refused request, newest
// first, from GET /api/v1/audit; filter by user (and entity, for platform admins), then page
// back with "Older". Not polled: a trail is read, not watched.
import { api, type AuditEntry } from "../api";
import { h, replace } from "../dom";
import { dateTime } from "../format";
import { t } from "../i18n";
import type { Ctx } from "../main";
import { errorNote } from "../ui";

const PAGE = 50;

function rows(entries: AuditEntry[]): HTMLElement[] {
  return entries.map((e) => {
    const refused = e.status === 401 || e.status === 403;
    const failed = e.status >= 400;
    return h("tr", { "data-seq": e.seq, class: refused ? "refused" : undefined },
      h("td", { class: "num", "data-label": t("audit.col.seq") }, String(e.seq)),
      h("td", { "data-label": t("audit.col.time") }, dateTime(e.time)),
      h("td", { "data-label": t("audit.col.actor") }, e.actor ?? t("audit.anonymous")),
      h("td", { "data-label": t("audit.col.entity") }, e.entity ?? "—"),
      h("td", { class: "request", "data-label": t("audit.col.request") }, `${e.method} ${e.path}`),
      h("td", { "data-label": t("audit.col.status") },
        h("span", { class: `badge ${refused ? "state-failed" : failed ? "state-cancelled" : "state-succeeded"}` },
          refused ? t("audit.refused", { status: e.status }) : String(e.status))),
      h("td", { "data-label": t("audit.col.remote") }, e.remote));
  });
}

export function renderAudit(main: HTMLElement, ctx: Ctx): void {
  const platformAdmin = ctx.who.user?.role === "platform-admin";
  const actor = h("input", { id: "audit-actor", type: "text", autocomplete: "off" });
  const entity = platformAdmin ? h("input", { id: "audit-entity", type: "text", autocomplete: "off" }) : null;
  const status = h("p", { class: "muted", role: "status" });
  const body = h("tbody");
  const older = h("button", { type: "button", id: "audit-older", hidden: true }, t("audit.older"));
  const table = h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("audit.caption") },
    h("table", { class: "audit" },
      h("caption", { class: "sr-only" }, t("audit.caption")),
      h("thead", null, h("tr", null,
        (["seq", "time", "actor", "entity", "request", "status", "remote"] as const).map((c) =>
          h("th", { scope: "col" }, t(`audit.col.${c}`))))),
      body));
  const errors = h("div");
  let next: number | null = null;
  let shown = 0;

  const load = async (more: boolean) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (actor.value.trim()) q.set("actor", actor.value.trim());
    if (entity?.value.trim()) q.set("entity", entity.value.trim());
    if (more && next !== null) q.set("before", String(next));
    status.textContent = t("app.loading");
    try {
      const r = await api<{ entries: AuditEntry[]; next_before: number | null }>("GET", `/api/v1/audit?${q}`);
      replace(errors);
      if (more) body.append(...rows(r.entries));
      else replace(body, ...rows(r.entries));
      shown = more ? shown + r.entries.length : r.entries.length;
      next = r.next_before;
      older.hidden = next === null;
      status.textContent = shown === 0 ? t("audit.empty")
        : t(shown === 1 ? "audit.shown.one" : "audit.shown", { n: shown });
    } catch (e) {
      status.textContent = "";
      replace(errors, errorNote(e));
    }
  };

  main.append(
    h("h1", null, t("audit.title")),
    h("p", null, platformAdmin ? t("audit.intro") : t("audit.intro.entity", { entity: ctx.who.entity?.name ?? "" })),
    h("form", {
      class: "filters",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void load(false);
      },
    },
    h("div", { class: "field" }, h("label", { for: "audit-actor" }, t("audit.filter.actor")), actor),
    entity ? h("div", { class: "field" }, h("label", { for: "audit-entity" }, t("audit.filter.entity")), entity) : null,
    h("button", { type: "submit", class: "primary" }, t("audit.filter"))),
    errors,
    status,
    table,
    older,
    h("p", { class: "muted" }, t("audit.verify"), " ", h("code", null, "gpuaas audit --verify FILE")),
  );
  older.addEventListener("click", () => void load(true));
  void load(false);
}
