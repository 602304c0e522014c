#include "base/time.h"

#include <gtest/gtest.h>

#include "base/money.h"

namespace gpuaas {
namespace {

TEST(Time, FormatsAndParsesRfc3339) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1'795'513'407'123), "2026-11-24T09:43:27.123Z");
  EXPECT_EQ(*ParseRfc3339("2026-11-24T09:43:27.123Z"), 1'795'513'407'123);
  EXPECT_EQ(*ParseRfc3339("2026-11-24T10:43:27.123+01:00"), 1'795'513'407'123);
  EXPECT_EQ(*ParseRfc3339("1970-01-02"), 86'400'000);
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-11-24T25:00:00Z",
                          "2026-11-24T10:00:00", "yesterday", "2026-11-24T10:00:00Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

TEST(Time, ParsesDurations) {
  EXPECT_EQ(*ParseDurationSeconds("90s"), 90);
  EXPECT_EQ(*ParseDurationSeconds("30m"), 1800);
  EXPECT_EQ(*ParseDurationSeconds("2h"), 7200);
  EXPECT_EQ(*ParseDurationSeconds("12w"), 12 * 7 * 86400);
  EXPECT_EQ(*ParseDurationSeconds("1d"), 86400);
  EXPECT_EQ(*ParseDurationSeconds("45"), 45);
  for (const char* bad : {"", "h", "-5", "1.5h", "2x", "99999999999999999999d"}) {
    EXPECT_FALSE(ParseDurationSeconds(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatDurationSeconds(5400), "1h30m");
}

TEST(Time, MonthRange) {
  auto r = MonthRange("2026-12");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FormatRfc3339(r->first), "2026-12-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(r->second), "2027-01-01T00:00:00Z");
  EXPECT_FALSE(MonthRange("2026-13").ok());
}

TEST(Money, ExactCostAndFormatting) {
  // 2 GPUs x 1 s at 3.50 EUR/h = 7000 ms GPU-time... = 0.001944 EUR (1944.4 micro-euros).
  EXPECT_EQ(CostOf(2000, 3'500'000), 1944);
  EXPECT_EQ(CostOf(3'600'000, 3'500'000), 3'500'000);
  EXPECT_EQ(FormatEurCents(12'345'000), "12.35");
  EXPECT_EQ(FormatEurCents(4'999), "0.00");
  EXPECT_EQ(FormatEurExact(1'500'001), "1.500001");
  EXPECT_EQ(*ParseEur("3.5"), 3'500'000);
  EXPECT_FALSE(ParseEur("3,5").ok());
  EXPECT_FALSE(ParseEur("1.1234567").ok());
}

}  // namespace
}  // namespace gpuaas
