#include "telemetry/dcgm_exposition.h"

#include <cstdio>

namespace gpuaas {
namespace {

std::string Labels(const DcgmDevice& d) {
  return "gpu=\"" + std::to_string(d.gpu) + "\",UUID=\"" + EscapeLabelValue(d.uuid) +
         "\",device=\"nvidia" + std::to_string(d.gpu) + "\",modelName=\"" +
         EscapeLabelValue(d.model_name) + "\",Hostname=\"" + EscapeLabelValue(d.hostname) +
         "\",job=\"" + EscapeLabelValue(d.job) + "\",entity=\"" + EscapeLabelValue(d.entity) + "\"";
}

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

struct Series {
  const char* name;
  const char* type;
  const char* help;
  bool needs_sample;
  std::string (*value)(const DcgmDevice&);
};

std::string Int(int64_t v) { return std::to_string(v); }

std::string Watts(int64_t mw) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(mw) / 1000.0);
  return buf;
}

const Series kSeries[] = {
    {"DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", true,
     [](const DcgmDevice& d) { return Int(d.last.util_pct); }},
    {"DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", true,
     [](const DcgmDevice& d) { return Int(d.last.mem_used_mb); }},
    {"DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).", true,
     [](const DcgmDevice& d) {
       return Int(d.memory_mb > d.last.mem_used_mb ? d.memory_mb - d.last.mem_used_mb : 0);
     }},
    {"DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", true,
     [](const DcgmDevice& d) { return Watts(d.last.power_mw); }},
    {"DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", true,
     [](const DcgmDevice& d) { return Int(d.last.temp_c); }},
    {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter",
     "Total energy consumption since the control plane first saw the GPU (in mJ).", false,
     [](const DcgmDevice& d) { return Int(d.energy_uj / 1000); }},
};

}  // namespace

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendDcgmExposition(const std::vector<DcgmDevice>& devices, std::string& out) {
  std::vector<std::string> labels;
  labels.reserve(devices.size());
  for (const auto& d : devices) labels.push_back(Labels(d));
  for (const Series& s : kSeries) {
    Header(out, s.name, s.type, s.help);
    for (size_t i = 0; i < devices.size(); ++i) {
      if (s.needs_sample && !devices[i].has_sample) continue;
      out += s.name;
      out += '{';
      out += labels[i];
      out += "} ";
      out += s.value(devices[i]);
      out += '\n';
    }
  }
  Header(out, "gpuaas_gpu_healthy", "gauge",
         "1 if the GPU is healthy, 0 if the agent reported it unhealthy (see reason).");
  for (size_t i = 0; i < devices.size(); ++i) {
    out += "gpuaas_gpu_healthy{" + labels[i] + ",reason=\"" +
           EscapeLabelValue(devices[i].health_reason) + "\"} " + (devices[i].healthy ? "1" : "0") +
           "\n";
  }
}

}  // namespace gpuaas
