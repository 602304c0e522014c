// TestTempDir: a fresh directory under /tmp for one test (mkdtemp), removed with everything in
// it when the object dies. For the store's tests only. Not thread-safe; one per test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace gpuaas {

class TestTempDir {
 public:
  TestTempDir() {
    char tmpl[] = "/tmp/gpuaas-store-test-XXXXXX";
    char* p = mkdtemp(tmpl);
    EXPECT_NE(p, nullptr) << "mkdtemp failed";
    path_ = p != nullptr ? p : "/tmp/gpuaas-store-test-failed";
  }
  ~TestTempDir() { std::filesystem::remove_all(path_); }
  TestTempDir(const TestTempDir&) = delete;
  TestTempDir& operator=(const TestTempDir&) = delete;

  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace gpuaas
