// The portal's shell: session, header (navigation, language, simulated banner) and a small
// history-API router. Pages render into <main> and may return a dispose() to stop polling.
import "./style.css";
import { api, ApiError, type NodeInfo, type Providers, setUnauthenticatedHandler, type WhoAmI } from "./api";
import { h, replace } from "./dom";
import { type Key, lang, setLang, t, type Lang } from "./i18n";
import { renderAccount } from "./pages/account";
import { renderAudit } from "./pages/audit";
import { renderCapacity } from "./pages/capacity";
import { renderDevice } from "./pages/device";
import { renderEntity } from "./pages/entity";
import { renderInvoices } from "./pages/invoices";
import { renderJob } from "./pages/job";
import { renderOperators } from "./pages/operators";
import { renderPeople } from "./pages/people";
import { renderRequest } from "./pages/request";
import { renderSignIn } from "./pages/signin";
import { renderWork } from "./pages/work";

export interface Ctx {
  who: WhoAmI;
  navigate: (path: string) => void;
  signedIn: (who: WhoAmI) => void;
}
export type Dispose = (() => void) | void;
type Page = (main: HTMLElement, ctx: Ctx, params: Record<string, string>) => Dispose;

type Role = "member" | "entity-admin" | "platform-admin";
interface Route {
  pattern: RegExp;
  page: Page;
  nav?: Key;
  roles?: Role[]; // who may open it (default: everyone signed in)
}
const routes: Route[] = [
  { pattern: /^\/request\/?$/, page: renderRequest, nav: "nav.request" },
  { pattern: /^\/(work\/?)?$/, page: renderWork, nav: "nav.work" },
  { pattern: /^\/jobs\/(?<id>[^/]+)\/?$/, page: renderJob },
  { pattern: /^\/entity\/?$/, page: renderEntity, nav: "nav.entity" },
  { pattern: /^\/operators\/?$/, page: renderOperators, nav: "nav.operators", roles: ["platform-admin"] },
  { pattern: /^\/capacity\/?$/, page: renderCapacity, nav: "nav.capacity", roles: ["platform-admin"] },
  { pattern: /^\/invoices\/?$/, page: renderInvoices, nav: "nav.invoices", roles: ["platform-admin", "entity-admin"] },
  { pattern: /^\/audit\/?$/, page: renderAudit, nav: "nav.audit", roles: ["platform-admin", "entity-admin"] },
  { pattern: /^\/people\/?$/, page: renderPeople, nav: "nav.people", roles: ["platform-admin", "entity-admin"] },
  { pattern: /^\/account\/?$/, page: renderAccount, nav: "nav.account" },
  { pattern: /^\/device\/?$/, page: renderDevice },
];
const navPaths: Record<string, string> = {
  "nav.request": "/request",
  "nav.work": "/work",
  "nav.entity": "/entity",
  "nav.operators": "/operators",
  "nav.capacity": "/capacity",
  "nav.invoices": "/invoices",
  "nav.audit": "/audit",
  "nav.people": "/people",
  "nav.account": "/account",
};

const root = document.getElementById("app")!;
let who: WhoAmI | null = null;
let simulated = false;
let dispose: Dispose;

function navigate(path: string): void {
  if (path !== location.pathname) history.pushState(null, "", path);
  render();
}

function allowed(r: Route): boolean {
  return !r.roles || (who?.user ? r.roles.includes(who.user.role) : false);
}

function header(active?: Key): HTMLElement {
  const langSelect = h(
    "select",
    {
      id: "lang",
      "aria-label": t("app.language"),
      onchange: (e: Event) => {
        setLang((e.target as HTMLSelectElement).value as Lang);
        render();
      },
    },
    h("option", { value: "en", selected: lang() === "en" }, "English"),
    h("option", { value: "fr", selected: lang() === "fr" }, "Français"),
  );
  const links = who
    ? (Object.keys(navPaths) as Key[])
        .filter((k) => {
          const r = routes.find((x) => x.nav === k);
          return !r || allowed(r);
        })
        .map((k) =>
          h(
            "a",
            { href: navPaths[k], "aria-current": k === active ? "page" : undefined },
            t(k),
          ),
        )
    : [];
  const user = who?.user;
  return h(
    "header",
    { class: "top" },
    h("a", { class: "skip", href: "#main" }, t("app.skip")),
    h("div", { class: "bar" },
      h("a", { class: "brand", href: "/work" }, h("span", { class: "logo", "aria-hidden": "true" }), t("app.title")),
      who ? h("nav", { "aria-label": t("nav.main") }, links) : null,
      h("div", { class: "tools" },
        user
          ? h("span", { class: "who" }, user.name,
              who?.entity ? ` · ${who.entity.name}` : "",
              ` (${t(`who.role.${user.role}` as Key)})`)
          : null,
        langSelect,
        who ? h("button", { type: "button", class: "link", onclick: signOut }, t("nav.signout")) : null,
      ),
    ),
    who && simulated ? h("p", { class: "simulated", role: "note" }, t("app.simulated")) : null,
  );
}

async function signOut(): Promise<void> {
  // Where the operator wants it, signing out of the portal signs out of the company's provider
  // too: the browser goes through the server (which ends the session) to the provider and back.
  const providers = await api<Providers>("GET", "/api/v1/auth/providers").catch(() => null);
  if (providers?.oidc?.logout_url) {
    location.assign(providers.oidc.logout_url);
    return;
  }
  try {
    await api("DELETE", "/api/v1/session");
  } finally {
    who = null;
    navigate("/signin");
  }
}

function render(): void {
  if (typeof dispose === "function") dispose();
  dispose = undefined;
  document.documentElement.lang = lang();
  const path = location.pathname;
  const main = h("main", { id: "main", tabindex: "-1" });
  const ctx: Ctx = {
    who: who ?? { user: null, entity: null },
    navigate,
    signedIn: (w) => {
      who = w;
      void refreshSimulated();
      // Back to the page that asked for a sign-in (a link to a job page, say).
      const p = location.pathname;
      navigate(p === "/" || p === "/signin" ? "/work" : p);
    },
  };
  if (!who) {
    replace(root, header(), main);
    document.title = `${t("signin.title")} · GPUaaS`;
    dispose = renderSignIn(main, ctx);
    return;
  }
  let route = routes.find((r) => r.pattern.test(path) && allowed(r));
  if (!route || path === "/signin") {
    route = routes[1];
    if (path !== "/work") history.replaceState(null, "", "/work");
  }
  const params = route.pattern.exec(location.pathname)?.groups ?? {};
  replace(root, header(route.nav), main);
  document.title = `${route.nav ? t(route.nav) : "GPUaaS"} · GPUaaS`;
  dispose = route.page(main, ctx, params);
}

async function refreshSimulated(): Promise<void> {
  try {
    const r = await api<{ nodes: NodeInfo[] }>("GET", "/api/v1/nodes");
    const s = r.nodes.some((n) => n.simulated);
    if (s !== simulated) {
      simulated = s;
      const old = root.querySelector("header.top");
      if (old && who) {
        const active = routes.find((r) => r.pattern.test(location.pathname))?.nav;
        old.replaceWith(header(active));
      }
    }
  } catch {
    /* the banner is best effort */
  }
}

// In-app links: plain <a href="/..."> handled without a page load.
document.addEventListener("click", (e) => {
  const a = (e.target as Element).closest?.("a");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  const href = a.getAttribute("href");
  if (!href || !href.startsWith("/") || href.startsWith("/api") || href.startsWith("/notebooks")) return;
  if (a.target) return;
  e.preventDefault();
  navigate(href);
  (document.getElementById("main") as HTMLElement | null)?.focus();
});
window.addEventListener("popstate", render);

setUnauthenticatedHandler(() => {
  if (who) {
    who = null;
    render();
  }
});

async function boot(): Promise<void> {
  setLang(lang());
  try {
    who = await api<WhoAmI>("GET", "/api/v1/whoami");
    void refreshSimulated();
  } catch (e) {
    who = null;
    if (!(e instanceof ApiError)) console.error(e);
  }
  render();
}

void boot();
