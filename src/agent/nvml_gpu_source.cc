#include "agent/nvml_gpu_source.h"

#include <cctype>

namespace gpuaas {

std::string GpuClassForModel(std::string_view nvml_name) {
  std::string upper;
  for (char c : nvml_name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.find("H200") != std::string::npos) return "h200";
  if (upper.find("L40S") != std::string::npos) return "l40s";
  return "";
}

std::string HealthProblem(const NvmlReading& r, const GpuHealthLimits& limits) {
  if (r.lost) return "GPU fell off the bus (" + r.error + ")";
  if (!r.error.empty()) return "";  // a transient read failure is not a verdict
  if (r.ecc_uncorrected > limits.max_ecc_uncorrected) {
    return std::to_string(r.ecc_uncorrected) + " uncorrectable ECC error(s)";
  }
  if (r.temp_c >= limits.max_temp_c) {
    return "too hot: " + std::to_string(r.temp_c) + " C (limit " +
           std::to_string(limits.max_temp_c) + " C)";
  }
  return "";
}

Result<std::unique_ptr<NvmlGpuSource>> NvmlGpuSource::Open(const std::string& library,
                                                           GpuHealthLimits limits,
                                                           std::vector<std::string>* notes) {
  GPUAAS_ASSIGN_OR_RETURN(std::unique_ptr<Nvml> nvml, Nvml::Load(library));
  std::vector<std::string> lost;
  GPUAAS_ASSIGN_OR_RETURN(std::vector<NvmlDeviceInfo> infos, nvml->Discover(&lost));
  std::unique_ptr<NvmlGpuSource> src(new NvmlGpuSource(std::move(nvml), limits));
  for (const auto& l : lost) {
    if (notes) notes->push_back("left out at discovery: " + l);
  }
  for (auto& info : infos) {
    const std::string cls = GpuClassForModel(info.name);
    if (cls.empty()) {
      if (notes) {
        notes->push_back("GPU " + std::to_string(info.index) + " (" + info.name +
                         ") is not an H200 or L40S: left out");
      }
      continue;
    }
    if (notes) {
      std::string fact = "GPU " + std::to_string(info.index) + ": " + info.name + " " + info.uuid +
                         " at " + info.pci_bus_id + ", " + std::to_string(info.memory_mb) + " MiB";
      if (info.mig_enabled) {
        fact += ", MIG on (" + std::to_string(info.mig.size()) + " instance(s)";
        for (const auto& m : info.mig) {
          fact += "; GI " + std::to_string(m.gpu_instance_id) + " " + m.uuid + " " +
                  std::to_string(m.memory_mb) + " MiB";
        }
        fact += ")";
      }
      if (!info.nvlink_peers.empty()) {
        fact += ", " + std::to_string(info.nvlink_peers.size()) + " NVLink(s)";
      }
      notes->push_back(fact);
      if (!info.mig_error.empty()) {
        notes->push_back("GPU " + std::to_string(info.index) + ": " + info.mig_error);
      }
    }
    GpuDevice d;
    d.index = info.index;
    d.uuid = info.uuid;
    d.model = info.name;
    d.gpu_class = cls;
    d.memory_mb = info.memory_mb;
    d.state = DeviceState::kHealthy;
    for (const auto& m : info.mig) {
      d.mig.push_back(MigDevice{m.index, m.uuid, m.memory_mb, m.gpu_instance_id});
    }
    src->inventory_.push_back(std::move(d));
    src->infos_.push_back(std::move(info));
  }
  return src;
}

std::vector<GpuReading> NvmlGpuSource::Sample(Millis now, const std::set<int>&) {
  std::vector<GpuReading> out;
  out.reserve(inventory_.size());
  for (const GpuDevice& d : inventory_) {
    const NvmlReading r = nvml_->Read(d.index);
    GpuReading g;
    g.valid = r.error.empty();
    g.problem = HealthProblem(r, limits_);
    g.sample.index = d.index;
    g.sample.t = now;
    g.sample.util_pct = r.util_pct;
    g.sample.mem_used_mb = r.mem_used_mb;
    g.sample.power_mw = r.power_mw;
    g.sample.temp_c = r.temp_c;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace gpuaas
