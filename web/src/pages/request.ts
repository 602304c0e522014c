// The request form: kind, GPU class and count, walltime, environment, command. Before submit it
// shows the hourly price, the estimated start (when the server offers POST /api/v1/estimate)
// and the fallback classes with their slowdown and price.
import { api, ApiError, type Entity, type Environment, type Estimate, type GpuClass, type Job } from "../api";
import { h, replace } from "../dom";
import { dateTime, duration, microsText, money, number } from "../format";
import { type Key, t } from "../i18n";
import type { Ctx } from "../main";
import { errorNote } from "../ui";
import { sizingPanel } from "./sizing";

const KINDS = ["job", "notebook", "service", "allocation"] as const;
const UNITS: Record<string, number> = { m: 60, h: 3600, d: 86400 };
let estimateSupported = true;  // false once the server answered 404/405

function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  if (hint) control.setAttribute("aria-describedby", `${id}-hint`);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("small", { id: `${id}-hint`, class: "hint" }, hint) : null,
  );
}

export function renderRequest(main: HTMLElement, ctx: Ctx): () => void {
  main.append(h("h1", null, t("req.title")));
  const body = h("div", null, h("p", { role: "status" }, t("app.loading")));
  main.append(body);
  let disposed = false;
  let estimateTimer = 0;

  const isAdmin = ctx.who.user?.role === "platform-admin";
  Promise.all([
    api<{ classes: GpuClass[] }>("GET", "/api/v1/classes"),
    isAdmin ? api<{ entities: Entity[] }>("GET", "/api/v1/entities") : Promise.resolve({ entities: [] }),
    api<{ environments: Environment[] }>("GET", "/api/v1/environments"),
  ])
    .then(([c, e, envs]) => {
      if (!disposed) build(c.classes, e.entities, envs.environments);
    })
    .catch((e) => replace(body, errorNote(e)));

  function build(classes: GpuClass[], entities: Entity[], environments: Environment[]): void {
    const byName = new Map(classes.map((c) => [c.name, c]));
    const kind = h("select", { id: "kind", name: "kind" },
      KINDS.map((k) => h("option", { value: k }, t(`kind.${k}` as Key))));
    const cls = h("select", { id: "gpu-class", name: "gpu_class" },
      classes.map((c) =>
        h("option", { value: c.name }, t("req.class.option", {
          name: c.name, model: c.model, mem: Math.round(c.memory_mb / 1024), rate: money(c.hourly_rate),
        }))),
      h("option", { value: "" }, t("any")));
    const count = h("input", { id: "gpus", name: "gpus", type: "number", min: 1, max: 64, value: 1, required: true, inputmode: "numeric" });
    const wall = h("input", { id: "walltime", name: "walltime", type: "number", min: 1, step: 1, value: 1, required: true, inputmode: "numeric" });
    const unit = h("select", { id: "walltime-unit", "aria-label": t("req.unit") },
      (["m", "h", "d"] as const).map((u) => h("option", { value: u, selected: u === "h" }, t(`unit.${u}`))));
    const env = h("select", { id: "environment", name: "environment" },
      h("option", { value: "" }, t("req.environment.none")),
      environments.map((e) => h("option", { value: e.name }, e.description ? `${e.name} — ${e.description}` : e.name)));
    const command = h("textarea", { id: "command", name: "command", rows: 3, spellcheck: "false" });
    const name = h("input", { id: "name", name: "name", type: "text", maxlength: 128, autocomplete: "off" });
    const fallback = h("input", { id: "fallback", name: "fallback", type: "checkbox", checked: true });
    const entity = isAdmin
      ? h("select", { id: "entity", name: "entity", required: true },
          entities.map((e) => h("option", { value: e.name }, e.name)))
      : null;
    const summary = h("div", { class: "summary", "aria-live": "polite" });
    const status = h("div");
    const submit = h("button", { type: "submit", class: "primary" }, t("req.submit"));

    const walltimeS = () => Math.max(1, Number(wall.value) || 1) * UNITS[unit.value];
    const gpus = () => Math.max(1, Math.floor(Number(count.value) || 1));
    const fallbacks = (): GpuClass[] => {
      const chosen = byName.get(cls.value);
      if (!chosen || !fallback.checked) return [];
      return classes.filter((c) => c.name !== chosen.name && c.speed < chosen.speed).sort((a, b) => b.speed - a.speed);
    };
    const gpuTypes = (): string[] => (cls.value ? [cls.value, ...fallbacks().map((c) => c.name)] : []);
    const requestBody = (): Record<string, unknown> => {
      const b: Record<string, unknown> = { gpus: gpus(), gpu_types: gpuTypes(), walltime_s: walltimeS() };
      if (entity) b.entity = entity.value;
      return b;
    };

    function updateSummary(): void {
      const lines: HTMLElement[] = [];
      const chosen = byName.get(cls.value);
      const n = gpus();
      const hours = walltimeS() / 3600;
      const priced = chosen ? [chosen] : classes;
      for (const c of priced) {
        const rate = c.hourly_rate.micros;
        lines.push(h("p", { class: "price" },
          chosen ? null : h("strong", null, `${c.name}: `),
          t("req.price", { gpus: n, rate: microsText(rate), total: microsText(rate * n) }),
          " · ",
          t("req.maxcost", { cost: microsText(Math.round(rate * n * hours)) })));
      }
      if (estimateSupported) lines.push(h("p", { class: "estimate", id: "estimate-line" }, t("req.estimate", { when: "…" })));
      if (chosen && fallback.checked) {
        const fbs = fallbacks();
        if (fbs.length === 0) lines.push(h("p", { class: "fallback" }, t("req.fallback.none")));
        for (const fb of fbs) {
          const slow = chosen.speed / fb.speed;
          const rate = fb.hourly_rate.micros;
          lines.push(h("p", { class: "fallback" }, t("req.fallback.line", {
            cls: fb.name, model: fb.model, slow: number(slow, 2), rate: microsText(rate),
            total: microsText(rate * n), wall: duration(walltimeS() * slow),
            cost: microsText(Math.round(rate * n * hours * slow)),
          })));
        }
      }
      replace(summary, h("h2", null, t("req.summary")), lines);
      scheduleEstimate();
    }

    function scheduleEstimate(): void {
      window.clearTimeout(estimateTimer);
      if (!estimateSupported) return;
      estimateTimer = window.setTimeout(async () => {
        const line = summary.querySelector("#estimate-line");
        try {
          const est = await api<Estimate>("POST", "/api/v1/estimate", requestBody());
          if (!line || disposed) return;
          const when = est.estimated_start ? dateTime(est.estimated_start) : t("req.estimate.now");
          line.textContent = t("req.estimate", { when }) +
            (est.gpu_type ? ` (${est.gpu_type}${est.node ? `, ${est.node}` : ""})` : "");
        } catch (e) {
          if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
            estimateSupported = false;
            line?.remove();
          } else if (line) {
            line.textContent = t("req.estimate", { when: "—" });
          }
        }
      }, 300);
    }

    const form = h("form", {
      class: "card request",
      novalidate: false,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        replace(status);
        const k = kind.value;
        const cmd = command.value.trim();
        if (!cmd && (k === "job" || k === "service")) {
          replace(status, h("p", { class: "error", role: "alert" }, t("req.command.required")));
          command.focus();
          return;
        }
        const b = requestBody();
        b.kind = k;
        if (cmd) b.command = ["sh", "-c", cmd];
        const nm = name.value.trim() || cmd.split(/\s+/)[0] || k;
        b.name = nm.slice(0, 128);
        if (env.value) b.environment = env.value;
        submit.disabled = true;
        submit.textContent = t("req.submitting");
        try {
          const job = await api<Job>("POST", "/api/v1/jobs", b);
          ctx.navigate(`/jobs/${job.id}`);
        } catch (err) {
          replace(status, errorNote(err));
          submit.disabled = false;
          submit.textContent = t("req.submit");
        }
      },
    },
      h("div", { class: "grid" },
        field("kind", t("req.kind"), kind),
        entity ? field("entity", t("req.entity"), entity) : null,
        field("gpu-class", t("req.class"), cls),
        field("gpus", t("req.count"), count),
        h("div", { class: "field" },
          h("label", { for: "walltime" }, t("req.walltime")),
          h("div", { class: "inline" }, wall, unit)),
        field("environment", t("req.environment"), env, t("req.environment.hint")),
      ),
      h("div", { class: "check" }, fallback, h("label", { for: "fallback" }, t("req.fallback"))),
      field("command", t("req.command"), command, t("req.command.hint")),
      field("name", t("req.name"), name, t("req.name.hint")),
      summary,
      status,
      submit,
    );
    for (const el of [kind, cls, count, wall, unit, fallback, entity]) el?.addEventListener("input", updateSummary);
    for (const el of [cls, unit, fallback, entity]) el?.addEventListener("change", updateSummary);
    // The sizing panel fills the form with the option chosen: its class only (the walltime was
    // sized for it), its GPUs and walltime.
    const sizing = sizingPanel({
      entity: () => (entity ? entity.value : null),
      use: (o, service) => {
        if (service) kind.value = "service";
        cls.value = o.gpu_type;
        count.value = String(o.gpus);
        const hours = o.walltime_s % 3600 === 0;
        wall.value = String(hours ? o.walltime_s / 3600 : Math.ceil(o.walltime_s / 60));
        unit.value = hours ? "h" : "m";
        fallback.checked = false;
        updateSummary();
        replace(status, h("p", { class: "hint", role: "status" },
          t("size.used", { gpus: o.gpus, cls: o.gpu_type, wall: duration(o.walltime_s) })));
        count.focus();
      },
    });
    replace(body, sizing, form);
    updateSummary();
  }

  return () => {
    disposed = true;
    window.clearTimeout(estimateTimer);
  };
}
