#include "billing/price_book.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

PriceChange Change(std::string cls, std::string prio, MicroEur rate, Millis from) {
  PriceChange c;
  c.gpu_class = std::move(cls);
  c.priority_class = std::move(prio);
  c.rate = rate;
  c.effective_from = from;
  return c;
}

TEST(PriceBook, EffectiveDatesAndPriorityClasses) {
  PriceBook p;
  p.SetRate("h200", 3'500'000);
  p.Add(Change("h200", "", 4'000'000, 1'000));
  p.Add(Change("h200", "best-effort", 1'000'000, 500));
  EXPECT_EQ(p.RateAt("h200", "", 0), 3'500'000);
  EXPECT_EQ(p.RateAt("h200", "", 999), 3'500'000);
  EXPECT_EQ(p.RateAt("h200", "", 1'000), 4'000'000);
  EXPECT_EQ(p.RateAt("h200", "standard", 1'000), 4'000'000);   // no entry of its own
  EXPECT_EQ(p.RateAt("h200", "best-effort", 499), 3'500'000);  // its own entry not yet
  EXPECT_EQ(p.RateAt("h200", "best-effort", 2'000), 1'000'000);
  EXPECT_EQ(p.RateAt("l40s", "", 2'000), 0);
  EXPECT_EQ(p.HourlyRate("h200"), 4'000'000);
  EXPECT_EQ(p.rates().at("h200"), 4'000'000);
  // Same effective time: the later entry wins.
  p.Add(Change("h200", "", 4'100'000, 1'000));
  EXPECT_EQ(p.RateAt("h200", "", 1'000), 4'100'000);
  auto ch = p.ChangesIn("h200", "", 0, 2'000);
  EXPECT_EQ(ch, (std::vector<Millis>{1'000}));
  auto be = p.ChangesIn("h200", "best-effort", 0, 2'000);
  EXPECT_EQ(be, (std::vector<Millis>{500, 1'000}));
}

TEST(PriceBook, Granularity) {
  PriceBook p;
  EXPECT_EQ(p.unit_ms(), 1'000);
  BillingGranularity g;
  ASSERT_TRUE(ParseBillingGranularity("per-started-hour", &g));
  p.set_granularity(g);
  EXPECT_EQ(p.unit_ms(), 3'600'000);
  EXPECT_STREQ(BillingGranularityName(g), "per-started-hour");
  EXPECT_FALSE(ParseBillingGranularity("hourly", &g));
}

}  // namespace
}  // namespace gpuaas
