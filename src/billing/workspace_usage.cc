#include "billing/workspace_usage.h"

#include <filesystem>
#include <system_error>

namespace gpuaas {

namespace fs = std::filesystem;

Result<DirUsage> MeasureDirectory(const std::string& path, int64_t max_entries) {
  DirUsage u;
  std::error_code ec;
  fs::file_status st = fs::symlink_status(path, ec);
  if (ec || st.type() == fs::file_type::not_found) return u;
  if (st.type() != fs::file_type::directory) {
    return FailedPrecondition("workspace '" + path + "' is not a directory");
  }
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Unavailable("cannot read workspace '" + path + "': " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      ec.clear();
      continue;
    }
    if (u.entries >= max_entries) {
      u.truncated = true;
      break;
    }
    ++u.entries;
    std::error_code e2;
    fs::file_status s = it->symlink_status(e2);
    if (e2) continue;
    if (s.type() == fs::file_type::regular) {
      uintmax_t size = it->file_size(e2);
      if (!e2) {
        u.bytes += static_cast<int64_t>(size);
        ++u.files;
      }
    }
  }
  return u;
}

}  // namespace gpuaas
