// My tokens: the signed-in user's API tokens (GET /api/v1/users/{me}/tokens): when each was made
// and expires, a new one (its secret shown once) and revoking one (two steps). Tokens let the
// CLI, scripts and the Python client act as the user; revoking the token this session was
// opened with ends the session.
import { api, type TokenInfo } from "../api";
import { h, replace } from "../dom";
import { dateTime } from "../format";
import { t } from "../i18n";
import type { Ctx } from "../main";
import { errorNote } from "../ui";

const LIFETIMES: [string, number | null][] = [
  ["account.life.default", null],
  ["account.life.1d", 86_400],
  ["account.life.30d", 30 * 86_400],
  ["account.life.90d", 90 * 86_400],
];

export function renderAccount(main: HTMLElement, ctx: Ctx): void {
  const me = ctx.who.user?.name ?? "";
  const base = `/api/v1/users/${encodeURIComponent(me)}/tokens`;
  const list = h("div", null, h("p", { role: "status" }, t("app.loading")));
  const made = h("div", { "aria-live": "polite" });
  const life = h("select", { id: "token-life" },
    LIFETIMES.map(([key], i) => h("option", { value: String(i) }, t(key as Parameters<typeof t>[0]))));
  let armed: number | null = null;

  const load = async () => {
    try {
      const r = await api<{ tokens: TokenInfo[] }>("GET", base);
      replace(list, table(r.tokens));
    } catch (e) {
      replace(list, errorNote(e));
    }
  };

  const table = (tokens: TokenInfo[]): HTMLElement =>
    h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("account.caption") },
      h("table", { class: "tokens" },
        h("caption", { class: "sr-only" }, t("account.caption")),
        h("thead", null, h("tr", null,
          ["account.col.id", "account.col.created", "account.col.expires", "account.col.state", "account.col.action"]
            .map((k) => h("th", { scope: "col" }, t(k as Parameters<typeof t>[0]))))),
        h("tbody", null, tokens.map((tok) => h("tr", { "data-token": tok.id },
          h("td", { class: "num" }, String(tok.id)),
          h("td", null, dateTime(tok.created_at)),
          h("td", null, tok.expires_at ? dateTime(tok.expires_at) : t("account.never")),
          h("td", null, h("span", { class: `badge ${tok.expired ? "state-cancelled" : "state-succeeded"}` },
            t(tok.expired ? "account.expired" : "account.valid")),
            tok.session ? h("span", { class: "muted" }, ` · ${t("account.sso")}`) : null),
          h("td", null, armed === tok.id
            ? [h("button", { type: "button", class: "danger small", id: `confirm-revoke-${tok.id}`,
                onclick: () => void revoke(tok.id) }, t("account.revoke.confirm", { id: tok.id })),
               h("button", { type: "button", class: "small", onclick: () => { armed = null; void load(); } },
                 t("account.revoke.keep"))]
            : h("button", { type: "button", class: "small", id: `revoke-${tok.id}`,
                onclick: () => { armed = tok.id; replace(list, table(tokens)); } },
              t("account.revoke"))))))));

  const revoke = async (id: number) => {
    try {
      await api("DELETE", `${base}/${id}`);
      armed = null;
      replace(made, h("p", { class: "note", role: "status" }, t("account.revoked", { id })));
      await load();
    } catch (e) {
      replace(made, errorNote(e));
    }
  };

  const create = async (e: Event) => {
    e.preventDefault();
    const seconds = LIFETIMES[Number(life.value)]?.[1] ?? null;
    try {
      const r = await api<{ token: string; token_id: number; expires_at: string | null }>(
        "POST", base, seconds === null ? undefined : { expires_in_s: seconds });
      replace(made, h("div", { class: "card secret", role: "status" },
        h("p", null, t("account.made", {
          id: r.token_id, expires: r.expires_at ? dateTime(r.expires_at) : t("account.never"),
        })),
        h("label", { for: "new-token" }, t("account.copy")),
        h("input", { id: "new-token", type: "text", readonly: true, value: r.token, spellcheck: "false" })));
      (made.querySelector("#new-token") as HTMLInputElement | null)?.select();
      await load();
    } catch (err) {
      replace(made, errorNote(err));
    }
  };

  main.append(
    h("h1", null, t("account.title")),
    h("p", null, t("account.intro")),
    h("form", { class: "filters", onsubmit: create },
      h("div", { class: "field" }, h("label", { for: "token-life" }, t("account.life")), life),
      h("button", { type: "submit", class: "primary", id: "new-token-button" }, t("account.new"))),
    made,
    list,
  );
  void load();
}
