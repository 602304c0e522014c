// Invoices (entity and platform admins): an entity's invoice of a month from GET
// /api/v1/invoices (open: computed live; closed: frozen), line by line, with its totals, energy
// and network, credit notes and balance; the CSV and the printable page to download; and the
// entity's monthly budget (GET /api/v1/entities/{name}/budget). This page only reads.
import { api, type Entity, type Money } from "../api";
import { h, replace } from "../dom";
import { bytes, clock, dateTime, money, number } from "../format";
import { t } from "../i18n";
import type { Ctx } from "../main";
import { errorNote } from "../ui";

interface Traffic {
  rx_bytes: number;
  tx_bytes: number;
}
interface InvoiceLine {
  job: number;
  user: string;
  project: string;
  gpu_type: string;
  priority_class: string;
  gpus: number;
  start: string;
  end: string;
  billed_seconds: number;
  rate: Money;
  amount: Money;
  energy_kwh: number;
  network?: Traffic;
}
interface CreditNote {
  id: number;
  amount: Money;
  reason: string;
}
interface Invoice {
  entity: string;
  month: string;
  status: "open" | "closed";
  closed_at: string | null;
  lines: InvoiceLine[];
  compute_total: Money;
  gpu_hours: number;
  energy_kwh: number;
  energy_amount: Money | null;
  co2_kg: number | null;
  idle_gpu_hours: number;
  network?: Traffic;
  total: Money;
  credit_notes: CreditNote[];
  balance: Money;
}
interface Budget {
  monthly: Money | null;
  policy: string;
  spent: Money;
  used_pct: number | null;
}

// "YYYY-MM" of now, in UTC (months are UTC on invoices).
function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

function traffic(n: Traffic | undefined): string {
  return n ? `${bytes(n.rx_bytes)} / ${bytes(n.tx_bytes)}` : "—";
}

// "04/12/2026, 18:14:50 → 18:14:53" (the end's date too when it is another day).
function period(start: string, end: string): string {
  const a = new Date(start);
  const b = new Date(end);
  return `${dateTime(start)} → ${a.toDateString() === b.toDateString() ? clock(b) : dateTime(end)}`;
}

function linesTable(inv: Invoice): HTMLElement {
  const cols = ["job", "user", "project", "type", "gpus", "period", "hours", "rate", "amount", "energy", "network"] as const;
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("inv.caption") },
    h("table", { class: "invoice" },
      h("caption", { class: "sr-only" }, t("inv.caption")),
      h("thead", null, h("tr", null, cols.map((c) => h("th", {
        scope: "col",
        class: ["gpus", "hours", "rate", "amount", "energy", "network"].includes(c) ? "num" : undefined,
      }, t(`inv.col.${c}`))))),
      h("tbody", null, inv.lines.map((l) => h("tr", null,
        h("td", { "data-label": t("inv.col.job") }, h("a", { href: `/jobs/${l.job}` }, `#${l.job}`)),
        h("td", { "data-label": t("inv.col.user") }, l.user),
        h("td", { "data-label": t("inv.col.project") }, l.project || "—"),
        h("td", { "data-label": t("inv.col.type") },
          l.priority_class && l.priority_class !== "standard" ? `${l.gpu_type} (${l.priority_class})` : l.gpu_type),
        h("td", { class: "num", "data-label": t("inv.col.gpus") }, String(l.gpus)),
        h("td", { "data-label": t("inv.col.period") }, period(l.start, l.end)),
        h("td", { class: "num", "data-label": t("inv.col.hours") }, number(l.billed_seconds / 3600, 3)),
        h("td", { class: "num", "data-label": t("inv.col.rate") }, money(l.rate)),
        h("td", { class: "num", "data-label": t("inv.col.amount") }, money(l.amount)),
        h("td", { class: "num", "data-label": t("inv.col.energy") }, number(l.energy_kwh, 3)),
        h("td", { class: "num nowrap", "data-label": t("inv.col.network") }, traffic(l.network)))))));
}

function totals(inv: Invoice): HTMLElement {
  const row = (label: string, value: string, id?: string) =>
    h("tr", null, h("th", { scope: "row" }, label), h("td", { class: "num", id }, value));
  return h("table", { class: "totals" },
    h("caption", { class: "sr-only" }, t("inv.totals")),
    h("tbody", null,
      row(t("inv.compute", { hours: number(inv.gpu_hours, 3) }), money(inv.compute_total)),
      row(t("inv.energy"), `${number(inv.energy_kwh, 3)} kWh`),
      inv.energy_amount ? row(t("inv.energy.charge"), money(inv.energy_amount)) : null,
      inv.co2_kg !== null ? row(t("inv.co2"), `${number(inv.co2_kg, 3)} kg`) : null,
      row(t("inv.idle"), number(inv.idle_gpu_hours, 3)),
      row(t("inv.network"), traffic(inv.network), "inv-network"),
      row(t("inv.total"), money(inv.total), "inv-total"),
      ...inv.credit_notes.map((c) => row(t("inv.credit", { id: c.id, reason: c.reason }), `− ${money(c.amount)}`)),
      inv.credit_notes.length ? row(t("inv.balance"), money(inv.balance), "inv-balance") : null));
}

function budgetLine(b: Budget): HTMLElement {
  return h("p", { id: "inv-budget" }, b.monthly
    ? t("inv.budget", {
      monthly: money(b.monthly), spent: money(b.spent), pct: number(b.used_pct ?? 0, 1),
      policy: t(b.policy === "refuse" ? "inv.budget.refuse" : "inv.budget.besteffort"),
    })
    : t("inv.nobudget", { spent: money(b.spent) }));
}

export function renderInvoices(main: HTMLElement, ctx: Ctx): void {
  const platformAdmin = ctx.who.user?.role === "platform-admin";
  const own = ctx.who.entity?.name ?? "";
  const entity = h("select", { id: "inv-entity", required: true, disabled: !platformAdmin },
    own ? h("option", { value: own }, own) : null);
  const month = h("input", { id: "inv-month", type: "month", value: thisMonth(), required: true });
  const body = h("div");
  const load = async () => {
    const name = entity.value;
    if (!name || !/^\d{4}-\d{2}$/.test(month.value)) {
      replace(body, h("p", null, t("inv.choose")));
      return;
    }
    replace(body, h("p", { role: "status" }, t("app.loading")));
    const q = new URLSearchParams({ entity: name, month: month.value });
    try {
      const [inv, budget] = await Promise.all([
        api<Invoice>("GET", `/api/v1/invoices?${q}`),
        api<Budget>("GET", `/api/v1/entities/${encodeURIComponent(name)}/budget`),
      ]);
      const file = `invoice-${name}-${month.value}`;
      replace(body,
        h("p", { id: "inv-status", role: "status" }, inv.status === "closed"
          ? t("inv.closed", { at: dateTime(inv.closed_at) })
          : t("inv.open")),
        inv.lines.length ? linesTable(inv) : h("p", null, t("inv.nolines")),
        totals(inv),
        h("p", { class: "downloads" },
          h("a", { id: "inv-csv", href: `/api/v1/invoices?${q}&format=csv`, download: `${file}.csv` }, t("inv.csv")),
          " · ",
          h("a", { id: "inv-html", href: `/api/v1/invoices?${q}&format=html`, target: "_blank", rel: "noopener" }, t("inv.html"))),
        month.value === thisMonth() ? budgetLine(budget) : null,
        h("p", { class: "muted" }, t("inv.note")));
    } catch (e) {
      replace(body, errorNote(e));
    }
  };
  const form = h("form", { class: "filters", "aria-label": t("inv.form") },
    h("div", { class: "field" }, h("label", { for: "inv-entity" }, t("inv.entity")), entity),
    h("div", { class: "field" }, h("label", { for: "inv-month" }, t("inv.month")), month),
    h("button", { type: "submit", class: "primary" }, t("inv.show")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (form.reportValidity()) void load();
  });
  main.append(h("h1", null, t("inv.title")), h("p", null, t("inv.intro")), form, body);
  if (platformAdmin) {
    api<{ entities: Entity[] }>("GET", "/api/v1/entities")
      .then((r) => {
        replace(entity, ...r.entities.map((e) => h("option", { value: e.name, selected: e.name === own }, e.name)));
        void load();
      })
      .catch((e) => replace(body, errorNote(e)));
  } else {
    void load();
  }
}
