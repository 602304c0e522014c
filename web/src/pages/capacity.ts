// Capacity (platform admins): the demand forecast of GET /api/v1/forecast per GPU class, weekly
// GPU-hours with trend and seasonality against the class's capacity, the week demand is
// projected to exceed it and the date by which to order GPUs given the suppliers' lead time.
// The model is docs/simulator.md, "Demand forecast"; this page only reads it.
import { api } from "../api";
import { h, replace } from "../dom";
import { day, number } from "../format";
import { t } from "../i18n";
import type { Ctx } from "../main";
import { type ChartMark, forecastChart } from "../forecast_chart";
import { errorNote } from "../ui";

interface ClassForecast {
  class: string;
  gpus: number;
  capacity_gpu_hours_per_week: number;
  history_gpu_hours: number[];
  forecast_gpu_hours: number[];
  trend_gpu_hours_per_week: number;
  seasonality: string;
  exceed_week: number | null;
  exceed_date: string | null;
  order_by: string | null;
  order_now: boolean;
}
interface Forecast {
  weeks_of_history: number;
  horizon_weeks: number;
  max_utilization: number;
  jobs_used: number;
  note?: string;
  classes: ClassForecast[];
}

function classBlock(c: ClassForecast, f: Forecast, leadWeeks: number): HTMLElement {
  const id = `forecast-${c.class}`;
  const last = c.history_gpu_hours.length ? c.history_gpu_hours[c.history_gpu_hours.length - 1] : 0;
  const facts = [
    t("cap.gpus", { gpus: c.gpus, cap: number(c.capacity_gpu_hours_per_week, 0), util: number(100 * f.max_utilization, 0) }),
    t("cap.trend", { last: number(last, 0), trend: number(c.trend_gpu_hours_per_week, 1), season: c.seasonality }),
  ];
  const exceed = c.exceed_date
    ? t("cap.exceed", { date: day(c.exceed_date) })
    : t("cap.noexceed", { weeks: f.horizon_weeks });
  const order = c.order_now
    ? h("p", { class: "order-now", id: `order-${c.class}` }, t("cap.ordernow", { weeks: leadWeeks }))
    : c.order_by
      ? h("p", { id: `order-${c.class}` }, t("cap.orderby", { date: day(c.order_by), weeks: leadWeeks }))
      : null;
  // Marks: the week demand is projected to exceed capacity and the week the order is due (the
  // lead time before it, from the two dates the API gives).
  const week = 7 * 24 * 3600 * 1000;
  const marks: ChartMark[] = [];
  if (c.exceed_week !== null && c.exceed_date) {
    marks.push({ at: c.exceed_week, kind: "exceed", title: t("cap.exceed", { date: day(c.exceed_date) }) });
    if (c.order_by) {
      const at = c.exceed_week - (Date.parse(c.exceed_date) - Date.parse(c.order_by)) / week;
      marks.push({ at, kind: "order", title: t("cap.markorder", { date: day(c.order_by) }) });
    }
  }
  const label = t("cap.chart", {
    cls: c.class, weeks: c.history_gpu_hours.length, ahead: c.forecast_gpu_hours.length,
    cap: number(c.capacity_gpu_hours_per_week, 0),
  });
  return h("section", { class: "card forecast-class", "aria-labelledby": id },
    h("h2", { id }, c.class),
    ...facts.map((x) => h("p", null, x)),
    h("p", { id: `exceed-${c.class}` }, exceed),
    order,
    forecastChart(c.history_gpu_hours, c.forecast_gpu_hours, c.capacity_gpu_hours_per_week, label, marks),
    h("p", { class: "muted" }, t("cap.legend")));
}

export function renderCapacity(main: HTMLElement, _ctx: Ctx): void {
  const horizon = h("input", { id: "cap-horizon", type: "number", min: "1", max: "520", value: "26", required: true });
  const lead = h("input", { id: "cap-lead", type: "number", min: "0", max: "520", value: "12", required: true });
  const growth = h("input", { id: "cap-growth", type: "number", min: "0.01", max: "100", step: "any", value: "1", required: true });
  const body = h("div", null, h("p", { role: "status" }, t("app.loading")));
  const load = async () => {
    const weeks = Number(lead.value);
    replace(body, h("p", { role: "status" }, t("app.loading")));
    try {
      const q = new URLSearchParams({ weeks: horizon.value, lead_time: `${weeks}w`, growth: growth.value });
      const f = await api<Forecast>("GET", `/api/v1/forecast?${q}`);
      replace(body,
        h("p", { class: "muted", role: "status" }, t(f.weeks_of_history === 1 ? "cap.basis1" : "cap.basis", { jobs: f.jobs_used, weeks: f.weeks_of_history })),
        f.classes.length === 0 ? h("p", null, f.note ?? t("cap.none")) : null,
        ...f.classes.map((c) => classBlock(c, f, weeks)));
    } catch (e) {
      replace(body, errorNote(e));
    }
  };
  const form = h("form", { class: "forecast-form", "aria-label": t("cap.form") },
    h("label", { for: "cap-horizon" }, t("cap.horizon"), horizon),
    h("label", { for: "cap-lead" }, t("cap.lead"), lead),
    h("label", { for: "cap-growth" }, t("cap.growth"), growth),
    h("button", { type: "submit" }, t("cap.update")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (form.reportValidity()) void load();
  });
  main.append(h("h1", null, t("cap.title")), h("p", null, t("cap.intro")), form, body);
  void load();
}
