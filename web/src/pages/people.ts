// People and groups (entity and platform admins): the directory groups whose members get an
// account at their first single sign-on (GET/POST/DELETE /api/v1/group-mappings; docs/adr/0024),
// and the accounts, each saying whether an administrator or a directory group made it. An
// entity admin maps groups to its own entity; a platform admin picks the entity.
import { api, type Entity, type GroupMapping, type User } from "../api";
import { h, replace } from "../dom";
import { dateTime } from "../format";
import { t } from "../i18n";
import type { Ctx } from "../main";
import { errorNote } from "../ui";

export function renderPeople(main: HTMLElement, ctx: Ctx): void {
  const platformAdmin = ctx.who.user?.role === "platform-admin";
  const mine = ctx.who.entity?.name ?? "";
  const groups = h("div", null, h("p", { role: "status" }, t("app.loading")));
  const people = h("div", null, h("p", { role: "status" }, t("app.loading")));
  const said = h("div", { "aria-live": "polite" });
  const group = h("input", { id: "group-name", type: "text", autocomplete: "off", required: true,
    maxlength: "256", spellcheck: "false", placeholder: "/bank/risk-ml" });
  const entity = h("select", { id: "group-entity" }, mine ? h("option", { value: mine }, mine) : null);
  const role = h("select", { id: "group-role" },
    h("option", { value: "member" }, t("people.role.member")),
    h("option", { value: "entity-admin" }, t("people.role.entity-admin")));
  let armed: number | null = null;
  let leaving: string | null = null; // the account whose "Disable" was clicked once
  const me = ctx.who.user?.name;

  const groupTable = (list: GroupMapping[]): HTMLElement =>
    list.length === 0 ? h("p", { class: "muted", id: "no-groups" }, t("people.groups.none")) :
    h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("people.groups.caption") },
      h("table", { class: "groups" },
        h("caption", { class: "sr-only" }, t("people.groups.caption")),
        h("thead", null, h("tr", null,
          (["group", "entity", "role", "by", "created", "action"] as const).map((c) =>
            h("th", { scope: "col" }, t(`people.col.${c}`))))),
        h("tbody", null, list.map((m) => h("tr", { "data-mapping": m.id },
          h("td", { class: "request" }, m.group),
          h("td", null, m.entity),
          h("td", null, t(`people.role.${m.role}`)),
          h("td", null, m.created_by ?? "—"),
          h("td", null, dateTime(m.created_at)),
          h("td", null, armed === m.id
            ? [h("button", { type: "button", class: "danger small", id: `confirm-unmap-${m.id}`,
                onclick: () => void unmap(m) }, t("people.unmap.confirm", { group: m.group })),
               h("button", { type: "button", class: "small", onclick: () => { armed = null; replace(groups, groupTable(list)); } },
                 t("people.unmap.keep"))]
            : h("button", { type: "button", class: "small", id: `unmap-${m.id}`,
                onclick: () => { armed = m.id; replace(groups, groupTable(list)); } },
              t("people.unmap"))))))));

  const peopleTable = (list: User[]): HTMLElement =>
    h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("people.users.caption") },
      h("table", { class: "people" },
        h("caption", { class: "sr-only" }, t("people.users.caption")),
        h("thead", null, h("tr", null,
          (["name", "entity", "role", "made", "state", "action"] as const).map((c) =>
            h("th", { scope: "col" }, t(`people.col.${c}`))))),
        h("tbody", null, list.map((u) => h("tr", { "data-user": u.name },
          h("td", null, u.name),
          h("td", null, u.entity ?? "—"),
          h("td", null, t(`people.role.${u.role}`)),
          h("td", null, t(u.from_directory ? "people.made.directory" : "people.made.admin")),
          h("td", null, u.disabled_at
            ? h("span", { class: "badge state-cancelled" }, t("people.disabled", { since: dateTime(u.disabled_at) }))
            : h("span", { class: "badge state-succeeded" }, t("people.active"))),
          h("td", null, u.name === me ? "" : u.disabled_at
            ? h("button", { type: "button", class: "small", id: `enable-${u.name}`,
                onclick: () => void setDisabled(u.name, false) }, t("people.enable"))
            : leaving === u.name
              ? [h("label", { class: "inline" },
                   h("input", { type: "checkbox", id: `cancel-jobs-${u.name}` }), " ", t("people.disable.cancelJobs")),
                 h("button", { type: "button", class: "danger small", id: `confirm-disable-${u.name}`,
                  onclick: () => void setDisabled(u.name, true) }, t("people.disable.confirm", { name: u.name })),
                 h("button", { type: "button", class: "small", onclick: () => { leaving = null; replace(people, peopleTable(list)); } },
                   t("people.unmap.keep"))]
              : h("button", { type: "button", class: "small", id: `disable-${u.name}`,
                  onclick: () => { leaving = u.name; replace(people, peopleTable(list)); } }, t("people.disable"))))))));

  // Disabling may cancel the person's unfinished jobs in the same step (the checkbox of the
  // confirmation); the answer says what was cancelled and what goes on.
  const setDisabled = async (name: string, disabled: boolean) => {
    const box = document.getElementById(`cancel-jobs-${name}`) as HTMLInputElement | null;
    const cancelJobs = disabled && !!box?.checked;
    try {
      const r = await api<{ cancelled_jobs: number[]; unfinished_jobs: number }>("PATCH",
        `/api/v1/users/${encodeURIComponent(name)}`, cancelJobs ? { disabled, cancel_jobs: true } : { disabled });
      leaving = null;
      const jobs = !disabled ? "" : r.cancelled_jobs.length > 0
        ? " " + t("people.disabled.cancelled", { n: r.cancelled_jobs.length, ids: r.cancelled_jobs.join(", ") })
        : r.unfinished_jobs > 0 ? " " + t("people.disabled.goOn", { n: r.unfinished_jobs }) : "";
      replace(said, h("p", { class: "note", role: "status" },
        t(disabled ? "people.disabled.done" : "people.enabled.done", { name }) + jobs));
      await load();
    } catch (e) {
      replace(said, errorNote(e));
    }
  };

  const load = async () => {
    try {
      const [m, u] = await Promise.all([
        api<{ group_mappings: GroupMapping[] }>("GET", "/api/v1/group-mappings"),
        api<{ users: User[] }>("GET", "/api/v1/users"),
      ]);
      replace(groups, groupTable(m.group_mappings));
      replace(people, peopleTable(u.users));
    } catch (e) {
      replace(groups, errorNote(e));
    }
  };

  const unmap = async (m: GroupMapping) => {
    try {
      await api("DELETE", `/api/v1/group-mappings/${m.id}`);
      armed = null;
      replace(said, h("p", { class: "note", role: "status" }, t("people.unmapped", { group: m.group })));
      await load();
    } catch (e) {
      replace(said, errorNote(e));
    }
  };

  const map = async (e: Event) => {
    e.preventDefault();
    try {
      const m = await api<GroupMapping>("POST", "/api/v1/group-mappings",
        { group: group.value.trim(), entity: entity.value, role: role.value });
      group.value = "";
      replace(said, h("p", { class: "note", role: "status" },
        t("people.mapped", { group: m.group, entity: m.entity, role: t(`people.role.${m.role}`) })));
      await load();
    } catch (err) {
      replace(said, errorNote(err));
    }
  };

  if (platformAdmin) {
    api<{ entities: Entity[] }>("GET", "/api/v1/entities")
      .then((r) => replace(entity, r.entities.map((x) => h("option", { value: x.name }, x.name))))
      .catch((e) => replace(said, errorNote(e)));
  }

  main.append(
    h("h1", null, t("people.title")),
    h("p", null, t(platformAdmin ? "people.intro.platform" : "people.intro", { entity: mine })),
    h("section", { "aria-labelledby": "s-groups" },
      h("h2", { id: "s-groups" }, t("people.groups")),
      h("p", { class: "muted" }, t("people.groups.intro")),
      h("form", { class: "filters", onsubmit: map },
        h("div", { class: "field" }, h("label", { for: "group-name" }, t("people.group")), group),
        h("div", { class: "field" }, h("label", { for: "group-entity" }, t("people.entity")), entity),
        h("div", { class: "field" }, h("label", { for: "group-role" }, t("people.role")), role),
        h("button", { type: "submit", class: "primary", id: "map-group" }, t("people.map"))),
      said,
      groups),
    h("section", { "aria-labelledby": "s-people" },
      h("h2", { id: "s-people" }, t("people.users")),
      people),
  );
  void load();
}
