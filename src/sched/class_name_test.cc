#include "sched/class_name.h"

#include <gtest/gtest.h>

#include <string>

namespace gpuaas::sched {
namespace {

// Every length from 0 to 12 (the short, the two-load and the long paths), with a difference at
// each position: the answer is std::string's.
TEST(SameClassName, AgreesWithStringEquality) {
  for (size_t n = 0; n <= 12; ++n) {
    const std::string a(n, 'x');
    EXPECT_TRUE(SameClassName(a, std::string(n, 'x'))) << n;
    EXPECT_FALSE(SameClassName(a, std::string(n + 1, 'x'))) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = 'y';
      EXPECT_FALSE(SameClassName(a, b)) << n << " " << i;
      EXPECT_FALSE(SameClassName(b, a)) << n << " " << i;
    }
  }
  EXPECT_TRUE(SameClassName("h200", "h200"));
  EXPECT_FALSE(SameClassName("h200", "l40s"));
  EXPECT_FALSE(SameClassName("h100", "h200"));
  EXPECT_TRUE(SameClassName("a100-80gb", "a100-80gb"));
}

}  // namespace
}  // namespace gpuaas::sched
