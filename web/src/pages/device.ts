// The device login's approval page (/device?code=WDJB-MJHT; docs/adr/0023): `gpuaas login` shows
// a code and this address; signed in as usual, the user sees what asks to act as them (the CLI's
// own words, the address it asked from, when), checks that the code is the one their terminal
// shows, and approves or refuses. Approving gives that CLI a session token of this user.
import { api } from "../api";
import { h, replace } from "../dom";
import { dateTime } from "../format";
import { t } from "../i18n";
import type { Ctx } from "../main";
import { errorNote } from "../ui";

interface DeviceGrant {
  user_code: string;
  client: string;
  from: string;
  requested_at: string;
  expires_at: string;
}

export function renderDevice(main: HTMLElement, ctx: Ctx): void {
  const given = new URLSearchParams(location.search).get("code") ?? "";
  const input = h("input", {
    id: "device-code", name: "code", value: given, autocomplete: "off", spellcheck: "false",
    autocapitalize: "characters", maxlength: "12", "aria-describedby": "device-help", required: true,
  });
  const out = h("div", { id: "device-result", "aria-live": "polite" });
  const me = ctx.who.user?.name ?? "";

  const answer = async (code: string, what: "approve" | "deny") => {
    try {
      const r = await api<{ user?: string; expires_at?: string | null }>(
        "POST", `/api/v1/auth/device/${encodeURIComponent(code)}/${what}`);
      replace(out, h("p", { role: "status", id: "device-done", class: "ok" },
        what === "approve"
          ? t("device.approved", { user: r.user ?? me, until: r.expires_at ? dateTime(r.expires_at) : t("account.never") })
          : t("device.denied")));
    } catch (e) {
      replace(out, errorNote(e));
    }
  };

  const details = (g: DeviceGrant): HTMLElement =>
    h("div", { class: "card", id: "device-grant" },
      h("p", null, t("device.asks", { client: g.client, from: g.from, when: dateTime(g.requested_at) })),
      h("p", { class: "device-code", id: "device-shown" }, g.user_code),
      h("p", { class: "muted" }, t("device.warning")),
      h("p", null,
        h("button", { type: "button", class: "primary", id: "device-approve",
          onclick: () => void answer(g.user_code, "approve") }, t("device.approve", { user: me })),
        " ",
        h("button", { type: "button", id: "device-deny",
          onclick: () => void answer(g.user_code, "deny") }, t("device.deny"))));

  const look = async (e?: Event) => {
    e?.preventDefault();
    const code = input.value.trim();
    if (!code) return;
    try {
      replace(out, details(await api<DeviceGrant>("GET", `/api/v1/auth/device/${encodeURIComponent(code)}`)));
    } catch (err) {
      replace(out, errorNote(err));
    }
  };

  replace(main,
    h("h1", null, t("device.title")),
    h("form", { onsubmit: look, class: "inline" },
      h("label", { for: "device-code" }, t("device.code")),
      " ", input, " ",
      h("button", { type: "submit", id: "device-check" }, t("device.check")),
      h("p", { id: "device-help", class: "muted" }, t("device.help"))),
    out);
  if (given) void look();
}
