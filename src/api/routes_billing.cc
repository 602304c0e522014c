// Billing routes (docs/api.md "Billing"): prices, invoices (JSON, CSV, HTML), closes, credit
// notes, budgets, billing events, storage. Decoding and encoding only; the rules are in the
// Platform (state/platform_billing.cc) and billing/.
#include "api/dto.h"
#include "api/handler_support.h"
#include "api/routes.h"
#include "api/storage_json.h"
#include "billing/invoice_format.h"

namespace gpuaas::api {
namespace {

std::string Query(const net::HttpRequest& req, const char* key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? "" : it->second;
}

json::value PriorityOrNull(const std::string& c) {
  return c.empty() ? json::value(nullptr) : json::value(json::string(c));
}

json::object PriceJson(const PriceChange& c) {
  return {{"id", c.id},
          {"gpu_class", c.gpu_class},
          {"priority_class", PriorityOrNull(c.priority_class)},
          {"rate", Money(c.rate)},
          {"effective_from", json::string(FormatRfc3339(c.effective_from))},
          {"created_at", TimeOrNull(c.created_at)}};
}

double Kwh(int64_t mwh) { return static_cast<double>(mwh) / 1e6; }
double GpuHours(int64_t ms) { return static_cast<double>(ms) / 3.6e6; }

std::string UserName(const Platform& p, UserId id) {
  const User* u = p.FindUserById(id);
  return u ? u->name : "user-" + std::to_string(id);
}

json::object InvoiceJson(const Platform& p, const std::string& entity, const Invoice& inv) {
  const EnergyPricing& energy = p.config().billing.energy;
  json::array lines;
  for (const InvoiceLine& l : inv.lines) {
    lines.push_back(json::object{
        {"job", l.job},
        {"allocation", l.allocation},
        {"user", UserName(p, l.user)},
        {"project", l.project},
        {"gpu_type", l.gpu_class},
        {"priority_class", l.priority_class.empty() ? std::string("standard") : l.priority_class},
        {"gpus", l.gpus},
        {"start", json::string(FormatRfc3339(l.start))},
        {"end", json::string(FormatRfc3339(l.end))},
        {"billed_seconds", l.billed_seconds},
        {"rate", Money(l.rate)},
        {"amount", Money(l.amount)},
        {"energy_kwh", Kwh(l.energy_mwh)},
        {"idle_gpu_hours", GpuHours(l.idle_gpu_millis)},
        {"network", TrafficJson(l.net_rx_bytes, l.net_tx_bytes)}});
  }
  json::array credits;
  MicroEur credited = 0;
  for (const CreditNote& c : p.CreditNotesOf(inv.entity, inv.month)) {
    credited += c.amount;
    credits.push_back(json::object{{"id", c.id},
                                   {"amount", Money(c.amount)},
                                   {"reason", c.reason},
                                   {"created_at", TimeOrNull(c.created_at)}});
  }
  return {{"entity", entity},
          {"month", inv.month},
          {"status", inv.closed ? "closed" : "open"},
          {"closed_at", TimeOrNull(inv.closed_at)},
          {"currency", "EUR"},
          {"granularity", BillingGranularityName(p.prices().granularity())},
          {"lines", lines},
          {"compute_total", Money(inv.compute_total)},
          {"gpu_hours", GpuHours(inv.gpu_millis)},
          {"energy_kwh", Kwh(inv.energy_mwh)},
          {"energy_amount",
           energy.eur_per_kwh > 0 ? json::value(Money(inv.energy_amount)) : json::value(nullptr)},
          {"co2_kg", energy.co2_g_per_kwh > 0 ? json::value(static_cast<double>(inv.co2_g) / 1e3)
                                              : json::value(nullptr)},
          {"idle_gpu_hours", GpuHours(inv.idle_gpu_millis)},
          {"network", TrafficJson(inv.net_rx_bytes, inv.net_tx_bytes)},
          {"total", Money(inv.total)},
          {"credit_notes", credits},
          {"balance", Money(inv.total - credited)}};
}

json::object BudgetJson(const Platform& p, const Platform::BudgetView& v) {
  const Entity* e = p.FindEntityById(v.budget.entity);
  return {{"entity", e ? e->name : ""},
          {"monthly",
           v.budget.monthly > 0 ? json::value(Money(v.budget.monthly)) : json::value(nullptr)},
          {"policy", BudgetPolicyName(v.budget.policy)},
          {"month", v.month},
          {"spent", Money(v.spent)},
          {"used_pct", v.budget.monthly > 0 ? json::value(static_cast<double>(v.spent) * 100.0 /
                                                          static_cast<double>(v.budget.monthly))
                                            : json::value(nullptr)}};
}

json::object EventJson(const Platform& p, const BillingEvent& e) {
  const Entity* ent = p.FindEntityById(e.entity);
  return {{"id", e.id},     {"entity", ent ? ent->name : ""}, {"month", e.month},
          {"kind", e.kind}, {"at", TimeOrNull(e.at)},         {"message", e.message}};
}

// effective_from: RFC 3339 string or integer milliseconds; absent = now (0).
Result<Millis> EffectiveFrom(const json::object& o) {
  auto it = o.find("effective_from");
  if (it == o.end() || it->value().is_null()) return 0;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_string()) {
    auto t = ParseRfc3339(std::string(it->value().get_string()));
    if (!t.ok()) return InvalidArgument("'effective_from': " + t.status().message());
    return *t;
  }
  return InvalidArgument("'effective_from' must be an RFC 3339 time or milliseconds");
}

Result<MicroEur> EurField(const json::object& o, const char* key) {
  GPUAAS_ASSIGN_OR_RETURN(auto s, GetString(o, key));
  if (!s) return InvalidArgument(std::string("'") + key + "' is required (a string like \"3.50\")");
  auto m = ParseEur(*s);
  if (!m.ok()) return FailedPrecondition(std::string("'") + key + "': " + m.status().message());
  return *m;
}

void RegisterPriceAndInvoiceRoutes(net::Router& r, Platform& p) {
  r.Add("POST", "/api/v1/prices",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          PriceChange c;
          auto cls = GetString(*body, "gpu_class");
          if (!cls.ok()) return respond(ErrorOf(cls.status()));
          if (!*cls) return respond(ErrorOf(InvalidArgument("'gpu_class' is required")));
          c.gpu_class = **cls;
          auto prio = GetString(*body, "priority_class");
          if (!prio.ok()) return respond(ErrorOf(prio.status()));
          if (*prio && **prio != "standard") c.priority_class = **prio;
          auto rate = EurField(*body, "rate");
          if (!rate.ok()) return respond(ErrorOf(rate.status()));
          c.rate = *rate;
          auto from = EffectiveFrom(*body);
          if (!from.ok()) return respond(ErrorOf(from.status()));
          c.effective_from = *from;
          p.AddPrice(who, c, Answer<PriceChange>(std::move(respond), 201, PriceJson));
        }));
  r.Add("GET", "/api/v1/prices",
        Authed(p, [&p](const Principal&, net::HttpRequest&&, net::Respond respond) {
          json::array a;
          for (const PriceChange& c : p.ListPrices()) a.push_back(PriceJson(c));
          json::object current;
          for (const auto& cls : p.config().classes) {
            json::object by;
            for (const char* pc : {"production", "standard", "best-effort"}) {
              by[pc] = Money(p.prices().RateAt(cls.name, pc, p.Now()));
            }
            current[cls.name] = by;
          }
          respond(JsonResponse(
              200, json::object{{"currency", "EUR"},
                                {"granularity", BillingGranularityName(p.prices().granularity())},
                                {"current", current},
                                {"prices", a}}));
        }));
  r.Add("GET", "/api/v1/invoices",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          std::string entity = Query(req, "entity"), month = Query(req, "month");
          std::string format = Query(req, "format");
          if (format.empty()) format = "json";
          if (entity.empty() || month.empty()) {
            return respond(ErrorOf(InvalidArgument("?entity=NAME&month=YYYY-MM are required")));
          }
          if (format != "json" && format != "csv" && format != "html") {
            return respond(ErrorOf(InvalidArgument("format must be json, csv or html")));
          }
          auto inv = p.GetInvoice(who, entity, month);
          if (!inv.ok()) return respond(ErrorOf(inv.status()));
          if (format == "json") return respond(JsonResponse(200, InvoiceJson(p, entity, *inv)));
          InvoiceNames names{entity, [&p](UserId u) { return UserName(p, u); }};
          net::HttpResponse res;
          if (format == "csv") {
            res.content_type = "text/csv; charset=utf-8";
            res.body = InvoiceCsv(*inv, names);
          } else {
            res.content_type = "text/html; charset=utf-8";
            res.body = InvoiceHtml(*inv, names, p.CreditNotesOf(inv->entity, month),
                                   p.config().billing.energy);
          }
          respond(std::move(res));
        }));
  r.Add("POST", "/api/v1/invoices/close",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto entity = GetString(*body, "entity");
          auto month = GetString(*body, "month");
          if (!entity.ok()) return respond(ErrorOf(entity.status()));
          if (!month.ok()) return respond(ErrorOf(month.status()));
          if (!*entity || !*month) {
            return respond(ErrorOf(InvalidArgument("'entity' and 'month' are required")));
          }
          std::string name = **entity;
          p.CloseInvoice(who, name, **month,
                         Answer<Invoice>(std::move(respond), 200, [&p, name](const Invoice& i) {
                           return InvoiceJson(p, name, i);
                         }));
        }));
  r.Add("POST", "/api/v1/credit-notes",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto entity = GetString(*body, "entity");
          auto month = GetString(*body, "month");
          auto reason = GetString(*body, "reason");
          for (const auto* f : {&entity, &month, &reason}) {
            if (!f->ok()) return respond(ErrorOf(f->status()));
          }
          if (!*entity || !*month) {
            return respond(ErrorOf(InvalidArgument("'entity' and 'month' are required")));
          }
          auto amount = EurField(*body, "amount");
          if (!amount.ok()) return respond(ErrorOf(amount.status()));
          std::string name = **entity;
          p.CreateCreditNote(
              who, name, **month, *amount, reason->value_or(""),
              Answer<CreditNote>(std::move(respond), 201, [name](const CreditNote& c) {
                return json::object{{"id", c.id},         {"entity", name},
                                    {"month", c.month},   {"amount", Money(c.amount)},
                                    {"reason", c.reason}, {"created_at", TimeOrNull(c.created_at)}};
              }));
        }));
}

void RegisterBudgetAndStorageRoutes(net::Router& r, Platform& p,
                                    std::shared_ptr<ArtifactoryCache> artifactory) {
  r.Add("PUT", "/api/v1/entities/{name}/budget",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto monthly = EurField(*body, "monthly");
          if (!monthly.ok()) return respond(ErrorOf(monthly.status()));
          auto policy_s = GetString(*body, "policy");
          if (!policy_s.ok()) return respond(ErrorOf(policy_s.status()));
          BudgetPolicy policy = BudgetPolicy::kRefuse;
          if (*policy_s && !ParseBudgetPolicy(**policy_s, &policy)) {
            return respond(ErrorOf(FailedPrecondition("unknown policy '" + **policy_s +
                                                      "' (refuse, best-effort-only)")));
          }
          std::string name = req.params["name"];
          p.SetBudget(who, name, *monthly, policy,
                      [&p, who, name, respond = std::move(respond)](Result<Budget> b) {
                        if (!b.ok()) return respond(ErrorOf(b.status()));
                        auto v = p.GetBudget(who, name);
                        if (!v.ok()) return respond(ErrorOf(v.status()));
                        respond(JsonResponse(200, BudgetJson(p, *v)));
                      });
        }));
  r.Add("GET", "/api/v1/entities/{name}/budget",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto v = p.GetBudget(who, req.params["name"]);
          if (!v.ok()) return respond(ErrorOf(v.status()));
          respond(JsonResponse(200, BudgetJson(p, *v)));
        }));
  r.Add("GET", "/api/v1/events",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto events = p.ListBillingEvents(who, Query(req, "entity"));
          if (!events.ok()) return respond(ErrorOf(events.status()));
          json::array a;
          for (const BillingEvent& e : *events) a.push_back(EventJson(p, e));
          respond(JsonResponse(200, json::object{{"events", a}}));
        }));
  r.Add("GET", "/api/v1/entities/{name}/storage",
        Authed(p, [&p, artifactory](const Principal& who, net::HttpRequest&& req,
                                    net::Respond respond) {
          std::string name = req.params["name"];
          // Measures the workspace now (bounded walk), so the answer is current.
          auto v = p.MeasureStorage(who, name);
          if (!v.ok()) return respond(ErrorOf(v.status()));
          json::object o = StorageJson(*v);
          // The last figures fetched off the loop (ArtifactoryCache): never waits on Artifactory.
          o["artifactory"] = ArtifactoryJson(artifactory->Lookup(name));
          respond(JsonResponse(200, o));
        }));
  r.Add("PUT", "/api/v1/entities/{name}/storage",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto q = GetInt(*body, "quota_bytes");
          if (!q.ok()) return respond(ErrorOf(q.status()));
          if (!*q) return respond(ErrorOf(InvalidArgument("'quota_bytes' is required")));
          p.SetStorageQuota(who, req.params["name"], **q,
                            Answer<Platform::StorageView>(std::move(respond), 200, StorageJson));
        }));
}

}  // namespace

void RegisterBillingRoutes(net::Router& r, Platform& p,
                           std::shared_ptr<ArtifactoryCache> artifactory) {
  RegisterPriceAndInvoiceRoutes(r, p);
  RegisterBudgetAndStorageRoutes(r, p, std::move(artifactory));
}

}  // namespace gpuaas::api
