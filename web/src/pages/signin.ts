// Sign-in: exchanges a token for the HttpOnly session cookie (POST /api/v1/session), or, when
// the platform has single sign-on (GET /api/v1/auth/providers), sends the browser to the
// company's identity provider, which brings it back signed in (docs/adr/0021).
import { api, type Providers, ApiError, type WhoAmI } from "../api";
import { h } from "../dom";
import { t } from "../i18n";
import type { Ctx } from "../main";

export function renderSignIn(main: HTMLElement, ctx: Ctx): void {
  const status = h("p", { class: "error", role: "alert", hidden: true });
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "current-password",
    required: true,
    spellcheck: "false",
    "aria-describedby": "token-help",
  });
  const button = h("button", { type: "submit", class: "primary" }, t("signin.submit"));
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        button.disabled = true;
        status.hidden = true;
        try {
          const who = await api<WhoAmI>("POST", "/api/v1/session", { token: input.value.trim() });
          ctx.signedIn(who);
        } catch (err) {
          status.textContent =
            err instanceof ApiError && err.status === 401 ? t("signin.bad") : String((err as Error).message);
          status.hidden = false;
          button.disabled = false;
          input.focus();
        }
      },
    },
    h("h1", null, t("signin.title")),
    h("p", { id: "token-help" }, t("signin.intro")),
    h("div", { class: "field" }, h("label", { for: "token" }, t("signin.token")), input),
    status,
    button,
  );
  main.append(form);
  input.focus();
  void offerSso(form);
}


// Above the token field: "Sign in with <provider>", back to this page afterwards.
async function offerSso(form: HTMLElement): Promise<void> {
  let providers: Providers;
  try {
    providers = await api<Providers>("GET", "/api/v1/auth/providers");
  } catch {
    return; // an older server: tokens only
  }
  if (!providers.oidc) return;
  const back = location.pathname + location.search;
  const href = `${providers.oidc.login_url}?return_to=${encodeURIComponent(back)}`;
  const sso = h("a", { class: "button primary", id: "sso", href }, t("signin.sso", { name: providers.oidc.name }));
  const intro = form.querySelector("#token-help");
  if (intro) {
    intro.textContent = t("signin.or");
    intro.before(h("p", null, sso));
  }
  form.querySelector("button[type=submit]")?.classList.remove("primary");
  sso.focus();
}
