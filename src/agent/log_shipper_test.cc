#include "agent/log_shipper.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

class LogShipperTest : public ::testing::Test {
 protected:
  LogShipper::ReadFn Reader() {
    return [this](AllocationId a, int64_t offset, int64_t max) -> Result<std::string> {
      auto it = logs_.find(a);
      if (it == logs_.end()) return NotFound("no log");
      if (offset >= static_cast<int64_t>(it->second.size())) return std::string();
      return it->second.substr(static_cast<size_t>(offset), static_cast<size_t>(max));
    };
  }
  static WorkloadStatus W(AllocationId a, bool final) {
    WorkloadStatus w;
    w.job = 100 + a;
    w.allocation = a;
    w.state = final ? WorkloadState::kExited : WorkloadState::kRunning;
    return w;
  }
  std::map<AllocationId, std::string> logs_;
};

TEST_F(LogShipperTest, ShipsInOrderAndAdvancesOnlyOnAcknowledge) {
  LogShipper s(/*per_workload=*/8, /*per_report=*/100);  // 8 base64 chars = 6 bytes
  logs_[1] = "0123456789";
  auto c1 = s.Collect({W(1, false)}, Reader());
  ASSERT_EQ(c1.size(), 1u);
  EXPECT_EQ(c1[0].offset, 0);
  EXPECT_EQ(c1[0].data, "012345");
  EXPECT_EQ(c1[0].job, 101);
  // Not acknowledged (the answer was lost): the same bytes again.
  auto again = s.Collect({W(1, false)}, Reader());
  EXPECT_EQ(again[0].data, "012345");
  s.Acknowledge(c1);
  s.Acknowledge(c1);  // a duplicate acknowledgement does not skip bytes
  EXPECT_EQ(s.Offset(1), 6);
  auto c2 = s.Collect({W(1, false)}, Reader());
  ASSERT_EQ(c2.size(), 1u);
  EXPECT_EQ(c2[0].offset, 6);
  EXPECT_EQ(c2[0].data, "6789");
  EXPECT_FALSE(s.Drained(1, Reader()));
  s.Acknowledge(c2);
  EXPECT_TRUE(s.Drained(1, Reader()));
  EXPECT_TRUE(s.Collect({W(1, false)}, Reader()).empty());
}

TEST_F(LogShipperTest, FinalWorkloadsGoFirstAndMayUseTheWholeReport) {
  LogShipper s(/*per_workload=*/4, /*per_report=*/20);  // 3 bytes each running, 15 per report
  logs_[1] = "aaaaaaaaaa";
  logs_[2] = "bbbbbbbbbbbbbbbbbbbb";
  logs_[3] = "cccccc";
  auto chunks = s.Collect({W(1, false), W(2, true), W(3, false)}, Reader());
  ASSERT_EQ(chunks.size(), 1u);  // the final one took the whole budget
  EXPECT_EQ(chunks[0].allocation, 2);
  EXPECT_EQ(chunks[0].data, std::string(15, 'b'));
  s.Acknowledge(chunks);
  chunks = s.Collect({W(1, false), W(2, true), W(3, false)}, Reader());
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].allocation, 2);
  EXPECT_EQ(chunks[0].data, std::string(5, 'b'));
  EXPECT_EQ(chunks[1].allocation, 1);
  EXPECT_EQ(chunks[1].data, "aaa");
  EXPECT_EQ(chunks[2].allocation, 3);
  EXPECT_EQ(chunks[2].data, "ccc");
}

TEST_F(LogShipperTest, SkipsUnreadableAndEmptyLogs) {
  LogShipper s;
  logs_[2] = "";
  EXPECT_TRUE(s.Collect({W(1, false), W(2, true)}, Reader()).empty());
  EXPECT_TRUE(s.Drained(1, Reader()));
  s.Forget(1);
  EXPECT_EQ(s.Offset(1), 0);
}

}  // namespace
}  // namespace gpuaas
