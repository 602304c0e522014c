#include "billing/invoice_format.h"

#include <cstdio>

#include "base/html.h"

namespace gpuaas {
namespace {

// RFC 4180: quote a field that holds a comma, a quote or a line break.
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string FormatGpuHours(int64_t gpu_millis) {
  char buf[48];
  int64_t thousandths = (gpu_millis + kMillisPerHour / 2000) / (kMillisPerHour / 1000);
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(thousandths / 1000),
                static_cast<long long>(thousandths % 1000));
  return buf;
}

std::string FormatGb(int64_t bytes) {
  char buf[48];
  int64_t mb = (bytes + 500'000) / 1'000'000;
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(mb / 1000),
                static_cast<long long>(mb % 1000));
  return buf;
}

std::string InvoiceCsv(const Invoice& inv, const InvoiceNames& names) {
  std::string out =
      "job,user,project,gpu_type,priority_class,gpus,start,end,billed_seconds,rate,amount,"
      "amount_micros,energy_kwh,idle_gpu_hours,net_rx_gb,net_tx_gb\r\n";
  for (const InvoiceLine& l : inv.lines) {
    out += std::to_string(l.job) + "," + CsvField(names.user(l.user)) + "," + CsvField(l.project) +
           "," + CsvField(l.gpu_class) + "," + CsvField(l.priority_class) + "," +
           std::to_string(l.gpus) + "," + FormatRfc3339(l.start) + "," + FormatRfc3339(l.end) +
           "," + std::to_string(l.billed_seconds) + "," + FormatEurExact(l.rate) + "," +
           FormatEurCents(l.amount) + "," + std::to_string(l.amount) + "," +
           FormatKwh(l.energy_mwh) + "," + FormatGpuHours(l.idle_gpu_millis) + "," +
           FormatGb(l.net_rx_bytes) + "," + FormatGb(l.net_tx_bytes) + "\r\n";
  }
  return out;
}

std::string InvoiceHtml(const Invoice& inv, const InvoiceNames& names,
                        const std::vector<CreditNote>& credits, const EnergyPricing& energy) {
  std::string h =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Invoice " +
      HtmlEscape(names.entity) + " " + HtmlEscape(inv.month) +
      "</title>\n<style>body{font-family:sans-serif;margin:2em;color:#111}"
      "table{border-collapse:collapse;width:100%;font-size:12px}"
      "th,td{border:1px solid #999;padding:3px 6px;text-align:left}"
      "td.n,th.n{text-align:right}.tot td{font-weight:bold}"
      "@media print{body{margin:0}a{display:none}}</style></head><body>\n";
  h += "<h1>Invoice: " + HtmlEscape(names.entity) + ", " + HtmlEscape(inv.month) + "</h1>\n";
  h += "<p>Status: <b>" + std::string(inv.closed ? "closed" : "open (computed live)") + "</b>";
  if (inv.closed) h += ", closed " + HtmlEscape(FormatRfc3339(inv.closed_at));
  h += ". Amounts in EUR; rate per GPU-hour.</p>\n<table><thead><tr><th>Job</th><th>User</th>"
       "<th>Project</th><th>GPU type</th><th>Priority</th><th class=n>GPUs</th><th>Start</th>"
       "<th>End</th><th class=n>Billed s</th><th class=n>Rate</th><th class=n>Amount</th>"
       "<th class=n>Energy kWh</th><th class=n>Idle GPU-h</th><th class=n>Network GB in / "
       "out</th></tr></thead><tbody>\n";
  for (const InvoiceLine& l : inv.lines) {
    h += "<tr><td>" + std::to_string(l.job) + "</td><td>" + HtmlEscape(names.user(l.user)) +
         "</td><td>" + HtmlEscape(l.project) + "</td><td>" + HtmlEscape(l.gpu_class) + "</td><td>" +
         HtmlEscape(l.priority_class) + "</td><td class=n>" + std::to_string(l.gpus) + "</td><td>" +
         HtmlEscape(FormatRfc3339(l.start)) + "</td><td>" + HtmlEscape(FormatRfc3339(l.end)) +
         "</td><td class=n>" + std::to_string(l.billed_seconds) + "</td><td class=n>" +
         FormatEurCents(l.rate) + "</td><td class=n>" + FormatEurCents(l.amount) +
         "</td><td class=n>" + FormatKwh(l.energy_mwh) + "</td><td class=n>" +
         FormatGpuHours(l.idle_gpu_millis) + "</td><td class=n>" + FormatGb(l.net_rx_bytes) +
         " / " + FormatGb(l.net_tx_bytes) + "</td></tr>\n";
  }
  h += "</tbody></table>\n<table style=\"width:auto;margin-top:1em\">\n";
  auto row = [&](const std::string& k, const std::string& v) {
    h += "<tr><td>" + HtmlEscape(k) + "</td><td class=n>" + HtmlEscape(v) + "</td></tr>\n";
  };
  row("Compute", FormatEurCents(inv.compute_total));
  row("Energy (kWh, information)", FormatKwh(inv.energy_mwh));
  if (energy.eur_per_kwh > 0) row("Energy charge", FormatEurCents(inv.energy_amount));
  if (energy.co2_g_per_kwh > 0) row("CO2 (kg, information)", FormatKwh(inv.co2_g * 1000));
  row("Idle GPU-hours (information: allocated, not used)", FormatGpuHours(inv.idle_gpu_millis));
  row("Network GB received / sent (information, container jobs)",
      FormatGb(inv.net_rx_bytes) + " / " + FormatGb(inv.net_tx_bytes));
  MicroEur credited = 0;
  for (const CreditNote& c : credits) {
    row("Credit note " + std::to_string(c.id) + ": " + c.reason, "-" + FormatEurCents(c.amount));
    credited += c.amount;
  }
  h += "<tr class=tot><td>Total</td><td class=n>" + FormatEurCents(inv.total - credited) +
       "</td></tr>\n</table>\n</body></html>\n";
  return h;
}

}  // namespace gpuaas
