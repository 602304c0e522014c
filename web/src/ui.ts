// Shared bits of the pages: state badges, error notes, polling.
import { ApiError } from "./api";
import { h } from "./dom";
import { stateName, t } from "./i18n";

export function stateBadge(state: string): HTMLElement {
  return h("span", { class: `badge state-${state}` }, stateName(state));
}

export function errorNote(e: unknown): HTMLElement {
  const msg = e instanceof ApiError || e instanceof Error ? e.message : String(e);
  return h("p", { class: "error", role: "alert" }, t("app.error", { msg }));
}

// Calls `tick` now and every `ms` until the returned function is called; a tick that resolves
// to true stops the polling. Ticks never overlap.
export function poll(tick: () => Promise<boolean | void>, ms: number): () => void {
  let stopped = false;
  let timer = 0;
  const run = async () => {
    let done = false;
    try {
      done = (await tick()) === true;
    } catch (e) {
      console.warn(e);
    }
    if (!stopped && !done) timer = window.setTimeout(run, ms);
  };
  void run();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

export function section(title: string, ...children: (Node | null)[]): HTMLElement {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}
