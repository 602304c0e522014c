// Tests of the JSON column encodings: round trips and strict rejection of wrong shapes.
#include "store/json_columns.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

TEST(JsonColumnsTest, RoundTrips) {
  std::vector<std::string> strings = {"a", "", "ü \"q\" \\ \n", std::string("nul\0x", 5)};
  auto s = DecodeStringList(EncodeStringList(strings));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, strings);
  auto i = DecodeIntList(EncodeIntList({0, -1, 2147483647}));
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(*i, (std::vector<int>{0, -1, 2147483647}));
  auto m = DecodeIntMap(EncodeIntMap({{"h200", 8}, {"l40s", 0}}));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (std::map<std::string, int>{{"h200", 8}, {"l40s", 0}}));
  auto e = DecodeStringList(EncodeStringList({}));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->empty());
  EXPECT_EQ(EncodeStringMap({}), "{}");
}

TEST(JsonColumnsTest, RejectsWrongShapes) {
  EXPECT_FALSE(DecodeStringList("").ok());
  EXPECT_FALSE(DecodeStringList("{}").ok());
  EXPECT_FALSE(DecodeStringList("[1]").ok());
  EXPECT_FALSE(DecodeIntList("[\"1\"]").ok());
  EXPECT_FALSE(DecodeIntList("[1.5]").ok());
  EXPECT_FALSE(DecodeIntList("[4294967296]").ok());  // does not fit an int
  EXPECT_FALSE(DecodeIntMap("[]").ok());
  EXPECT_FALSE(DecodeIntMap("{\"a\":\"b\"}").ok());
  EXPECT_FALSE(DecodeStringMap("{\"a\":1}").ok());
  EXPECT_FALSE(DecodeGpuDevices("[{}]").ok());
  EXPECT_FALSE(DecodeGpuDevices("[{\"index\":0,\"uuid\":\"u\",\"model\":\"m\",\"gpu_class\":\"c\","
                                "\"memory_mb\":1,\"state\":\"melted\"}]")
                   .ok());
  EXPECT_EQ(DecodeGpuDevices("[1]").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace gpuaas
