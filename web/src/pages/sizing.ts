// "Not sure how many GPUs?": a training run's size (POST /api/v1/sizing) on the request page.
// The user gives the method, the model's size, the tokens and epochs (or, for an inference
// service, the precision, concurrent requests and hours); the table shows each option (class,
// GPUs, memory per GPU, run time, walltime, cost, estimated end), the fastest and the cheapest,
// and "Use" fills the request form with that option.
import { api, type Sizing, type SizingOption } from "../api";
import { h, replace } from "../dom";
import { dateTime, duration, money, number } from "../format";
import { type Key, t } from "../i18n";
import { errorNote } from "../ui";

const METHODS = ["full", "lora", "qlora", "inference"] as const;
const PRECISIONS = ["bf16", "fp8", "int4"] as const;

export interface SizingPanelOptions {
  entity: () => string | null;  // the entity to size for (platform admins choose one)
  use: (o: SizingOption, service: boolean) => void;
}

export function sizingPanel(opts: SizingPanelOptions): HTMLElement {
  const method = h("select", { id: "size-method" },
    METHODS.map((m) => h("option", { value: m, selected: m === "lora" }, t(`size.method.${m}` as Key))));
  const params = h("input", { id: "size-params", type: "text", value: "8B", required: true, autocomplete: "off", "aria-describedby": "size-params-hint" });
  const tokens = h("input", { id: "size-tokens", type: "text", value: "200M", required: true, autocomplete: "off", "aria-describedby": "size-tokens-hint" });
  const epochs = h("input", { id: "size-epochs", type: "number", min: 1, max: 1000, value: 1, inputmode: "numeric" });
  const precision = h("select", { id: "size-precision" }, PRECISIONS.map((p) => h("option", { value: p }, p)));
  const concurrency = h("input", { id: "size-concurrency", type: "number", min: 1, max: 100000, value: 16, inputmode: "numeric" });
  const hours = h("input", { id: "size-hours", type: "number", min: 0.25, max: 100000, step: "any", value: 720, inputmode: "decimal" });
  const isService = () => method.value === "inference";
  const trainingFields = [
    h("div", { class: "field" }, h("label", { for: "size-tokens" }, t("size.tokens")), tokens,
      h("small", { id: "size-tokens-hint", class: "hint" }, t("size.tokens.hint"))),
    h("div", { class: "field" }, h("label", { for: "size-epochs" }, t("size.epochs")), epochs),
  ];
  const serviceFields = [
    h("div", { class: "field" }, h("label", { for: "size-precision" }, t("size.precision")), precision),
    h("div", { class: "field" }, h("label", { for: "size-concurrency" }, t("size.concurrency")), concurrency),
    h("div", { class: "field" }, h("label", { for: "size-hours" }, t("size.hours")), hours),
  ];
  const showFields = () => {
    for (const f of trainingFields) f.hidden = isService();
    for (const f of serviceFields) f.hidden = !isService();
  };
  method.addEventListener("change", showFields);
  const go = h("button", { type: "submit" }, t("size.submit"));
  const out = h("div", { id: "size-result", "aria-live": "polite" });

  function render(s: Sizing, service: boolean): void {
    const rows = s.options.map((o, i) => {
      const tags = [i === s.fastest ? t("size.fastest") : "", i === s.cheapest ? t("size.cheapest") : ""].filter(Boolean);
      return h("tr", { "data-gpu-type": o.gpu_type, "data-gpus": o.gpus },
        h("td", null, o.gpu_type, tags.length ? h("span", { class: "badge" }, tags.join(", ")) : null),
        h("td", null, String(o.gpus)),
        h("td", null, t("size.memory", { need: number(o.memory.total_gb, 1), have: number(o.memory.gpu_gb, 1) }),
          service ? h("small", { class: "hint" }, " · ", t("size.holds", { n: o.max_concurrency })) : null),
        h("td", null, duration(o.hours * 3600)),
        h("td", null, duration(o.walltime_s)),
        h("td", null, money(o.cost)),
        h("td", null, o.estimated_end ? dateTime(o.estimated_end) : o.reason),
        h("td", null, o.estimated_start
          ? h("button", { type: "button", class: "use", "aria-label": t("size.use.label", { gpus: o.gpus, cls: o.gpu_type }), onclick: () => opts.use(o, service) }, t("size.use"))
          : null));
    });
    replace(out,
      rows.length ? h("div", { class: "table-wrap" }, h("table", { class: "sizing" },
        h("thead", null, h("tr", null,
          (["class", "gpus", "memory", "hours", "walltime", "cost", "end"] as const).map((c) => h("th", { scope: "col" }, t(`size.col.${c}` as Key))),
          h("th", null))),
        h("tbody", null, rows))) : null,
      s.not_possible.map((n) => h("p", { class: "hint" }, t("size.none", { cls: n.gpu_type, reason: n.reason }))),
      h("details", null, h("summary", null, t("size.assumptions")),
        h("ul", null, s.assumptions.map((a) => h("li", null, a)))));
  }

  const form = h("form", {
    class: "sizing-form",
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const service = isService();
      const body: Record<string, unknown> = service
        ? {
            method: "inference", params: params.value.trim(), precision: precision.value,
            concurrency: Math.max(1, Math.floor(Number(concurrency.value) || 1)),
            hours: Number(hours.value) || 720,
          }
        : {
            method: method.value, params: params.value.trim(), tokens: tokens.value.trim(),
            epochs: Math.max(1, Math.floor(Number(epochs.value) || 1)),
          };
      const ent = opts.entity();
      if (ent) body.entity = ent;
      go.disabled = true;
      replace(out, h("p", { role: "status" }, t("size.sizing")));
      try {
        render(await api<Sizing>("POST", "/api/v1/sizing", body), service);
      } catch (err) {
        replace(out, errorNote(err));
      } finally {
        go.disabled = false;
      }
    },
  },
    h("div", { class: "grid" },
      h("div", { class: "field" }, h("label", { for: "size-method" }, t("size.method")), method),
      h("div", { class: "field" }, h("label", { for: "size-params" }, t("size.params")), params,
        h("small", { id: "size-params-hint", class: "hint" }, t("size.params.hint"))),
      trainingFields, serviceFields),
    go);
  showFields();
  return h("details", { class: "card sizing", id: "sizing" },
    h("summary", null, t("size.title")),
    h("p", { class: "hint" }, t("size.intro")),
    form,
    out);
}
