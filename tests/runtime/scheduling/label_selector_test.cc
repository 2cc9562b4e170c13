#include "scheduling/label_selector.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace raycc::scheduling {
namespace {

using ::testing::HasSubstr;

TEST(LabelSelectorTest, MatchesEachForm) {
  const std::map<std::string, std::string> node = {{"region", "us-west"}, {"accel", "h100"}};
  struct Case {
    std::map<std::string, std::string> selector;
    bool matches;
  };
  const Case cases[] = {
      {{}, true},
      {{{"region", "us-west"}}, true},
      {{{"region", "us-east"}}, false},
      {{{"region", "!us-east"}}, true},
      {{{"region", "!us-west"}}, false},
      {{{"region", "in(us-east, us-west)"}}, true},
      {{{"region", "!in(us-east,us-west)"}}, false},
      {{{"zone", "!a"}}, true},                             // absent: not "a"
      {{{"zone", "a"}}, false},                             // absent: not "a" either
      {{{"zone", "!in(a,b)"}}, true},                       // absent: in none
      {{{"region", "us-west"}, {"accel", "a100"}}, false},  // all must hold
  };
  for (const Case& c : cases) {
    absl::StatusOr<LabelSelector> s = ParseLabelSelector(c.selector);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(MatchesLabels(node, *s), c.matches) << LabelSelectorToString(*s);
  }
}

TEST(LabelSelectorTest, MalformedSelectorsNameTheEntry) {
  const std::map<std::string, std::string> bad[] = {
      {{"region", ""}}, {{"region", "in(a,b"}}, {{"region", "in(a,,b)"}}, {{"region", "a,b"}}, {{"", "x"}}};
  for (const auto& s : bad) {
    absl::StatusOr<LabelSelector> parsed = ParseLabelSelector(s);
    ASSERT_FALSE(parsed.ok());
    EXPECT_THAT(parsed.status().message(), HasSubstr("label selector"));
  }
  EXPECT_THAT(ParseLabelSelector({{"region", "in(a"}}).status().message(), HasSubstr("'region'"));
}

TEST(LabelSelectorTest, PrintsReadably) {
  auto s = ParseLabelSelector({{"region", "!in(a,b)"}, {"zone", "z"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(LabelSelectorToString(*s), "{region not in (a, b), zone = z}");
}

}  // namespace
}  // namespace raycc::scheduling
