// My entity: usage and spend this month by GPU class, against the entity's quota, and where it
// stands in the queue's fair share (GET /api/v1/fairshare). A platform admin without an entity
// sees every entity.
import { api, type Entity, type FairShare, type FairShareStanding, type Usage } from "../api";
import { h, replace } from "../dom";
import { bytes, dateTime, duration, money, number } from "../format";
import { t } from "../i18n";
import type { Ctx } from "../main";
import { errorNote } from "../ui";

// The entity's place in the queue, in words.
function standing(s: FairShareStanding | undefined): string {
  if (!s) return "";
  if (s.late) return t("entity.fs.late", { ratio: number(s.wait_ratio ?? 0, 2) });
  if (s.usage_gpu_hours <= 0) return t("entity.fs.idle");
  const parts = { usage: number(100 * s.usage, 1), share: number(100 * s.share, 1) };
  if (s.delay_s > 0) return t("entity.fs.delay", { ...parts, delay: duration(s.delay_s) });
  return t("entity.fs.none", parts);
}

export function renderEntity(main: HTMLElement, ctx: Ctx): void {
  main.append(h("h1", null, t("entity.title")));
  const body = h("div", null, h("p", { role: "status" }, t("app.loading")));
  main.append(body);
  const mine = ctx.who.entity?.name;
  const isAdmin = ctx.who.user?.role === "platform-admin";
  if (!mine && !isAdmin) {
    replace(body, h("p", null, t("entity.none")));
    return;
  }
  Promise.all([
    api<Usage>("GET", `/api/v1/usage${mine ? `?entity=${encodeURIComponent(mine)}` : ""}`),
    api<{ entities: Entity[] }>("GET", "/api/v1/entities"),
    api<FairShare>("GET", "/api/v1/fairshare"),
  ])
    .then(([usage, ents, fairshare]) => {
      const quotas = new Map(ents.entities.map((e) => [e.name, e.quota]));
      const names = mine ? [mine] : ents.entities.map((e) => e.name);
      const blocks = names.map((name) => {
        const u = usage.entities.find((x) => x.entity === name);
        const quota = quotas.get(name) ?? {};
        const classes = [...new Set([...Object.keys(quota), ...Object.keys(u?.gpu_seconds ?? {})])].sort();
        const id = `ent-${name}`;
        return h("section", { class: "card", "aria-labelledby": id },
          h("h2", { id }, name),
          h("p", { class: "muted" }, t("entity.month", { from: dateTime(usage.from), to: dateTime(usage.to) })),
          h("p", { id: `fairshare-${name}` }, standing(fairshare.entities.find((x) => x.entity === name))),
          classes.length === 0 ? h("p", null, t("entity.nousage")) :
          h("div", { class: "table-wrap" }, h("table", { class: "usage" },
            h("caption", { class: "sr-only" }, t("entity.month", { from: usage.from, to: usage.to })),
            h("thead", null, h("tr", null,
              h("th", { scope: "col" }, t("entity.class")),
              h("th", { scope: "col", class: "num" }, t("entity.hours")),
              h("th", { scope: "col", class: "num" }, t("col.cost")),
              h("th", { scope: "col", class: "num" }, t("entity.quota")))),
            h("tbody", null, classes.map((c) => h("tr", null,
              h("th", { scope: "row" }, c),
              h("td", { class: "num" }, number((u?.gpu_seconds[c] ?? 0) / 3600, 3)),
              h("td", { class: "num" }, money(u?.cost_by_class?.[c] ?? null)),
              h("td", { class: "num" }, quota[c] !== undefined ? String(quota[c]) : "—")))),
            h("tfoot", null, h("tr", null,
              h("th", { scope: "row" }, t("entity.total")),
              h("td", { class: "num" }, number(Object.values(u?.gpu_seconds ?? {}).reduce((a, b) => a + b, 0) / 3600, 3)),
              h("td", { class: "num total", id: `total-${name}` }, money(u?.cost ?? null)),
              h("td", null, ""))))),
          u ? h("p", { class: "muted", id: `measured-${name}` }, t("entity.measured", {
            kwh: number(u.energy_kwh ?? 0, 3),
            rx: bytes(u.network?.rx_bytes ?? 0),
            tx: bytes(u.network?.tx_bytes ?? 0),
          })) : null);
      });
      replace(body, blocks);
    })
    .catch((e) => replace(body, errorNote(e)));
}
