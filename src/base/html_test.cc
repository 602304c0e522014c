#include "base/html.h"

#include <gtest/gtest.h>

namespace gpuaas {
namespace {

TEST(HtmlEscape, EscapesTheFiveSpecialCharactersAndNothingElse) {
  EXPECT_EQ(HtmlEscape(R"(<a href="x">Tom & Jerry's</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("équipe 2 × H200"), "équipe 2 × H200");
  EXPECT_EQ(HtmlEscape(""), "");
}

}  // namespace
}  // namespace gpuaas
