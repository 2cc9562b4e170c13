// The compiler's label selectors (ir/include/raycc/ir/LabelSelector.h) and
// the runtime's (runtime/scheduling/label_selector.h) must agree: the same
// selectors parse or fail, and every selector matches the same nodes, over
// a table of hand-picked cases and thousands of generated ones.

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "raycc/ir/LabelSelector.h"
#include "scheduling/label_selector.h"

namespace {

using Labels = std::map<std::string, std::string>;

class LabelSelectorAgreementTest : public ::testing::Test {
 protected:
  // Both sides' verdict on `selector` for each of `nodes`; "error" when it
  // does not parse. Expects the two to agree.
  void Agree(const Labels& selector, const std::vector<Labels>& nodes) {
    mlir::Builder b(&context_);
    std::vector<mlir::NamedAttribute> entries;
    for (const auto& [key, spec] : selector) entries.push_back(b.getNamedAttr(key, b.getStringAttr(spec)));
    llvm::Expected<raycc::ray::LabelSelector> compiler =
        raycc::ray::parseLabelSelector(b.getDictionaryAttr(entries));
    absl::StatusOr<raycc::scheduling::LabelSelector> runtime =
        raycc::scheduling::ParseLabelSelector(selector);
    std::string what = Describe(selector);
    if (!compiler) {
      std::string message = llvm::toString(compiler.takeError());
      ASSERT_FALSE(runtime.ok()) << what << ": only the compiler refused it: " << message;
      EXPECT_EQ(message, runtime.status().message()) << what;
      ++refused_;
      return;
    }
    ASSERT_TRUE(runtime.ok()) << what << ": only the runtime refused it: " << runtime.status();
    EXPECT_EQ(raycc::ray::formatLabelSelector(*compiler), raycc::scheduling::LabelSelectorToString(*runtime))
        << what;
    for (const Labels& node : nodes) {
      bool c = raycc::ray::matchesLabels(node, *compiler);
      EXPECT_EQ(c, raycc::scheduling::MatchesLabels(node, *runtime)) << what << " on " << Describe(node);
      ++(c ? matched_ : unmatched_);
    }
  }
  static std::string Describe(const Labels& labels) {
    std::string out;
    for (const auto& [k, v] : labels) out += k + "=" + v + " ";
    return "{" + out + "}";
  }

  mlir::MLIRContext context_;
  int refused_ = 0, matched_ = 0, unmatched_ = 0;
};

TEST_F(LabelSelectorAgreementTest, HandPickedSelectors) {
  const std::vector<Labels> nodes = {{},
                                     {{"zone", "a"}},
                                     {{"zone", "b"}, {"tier", "spot"}},
                                     {{"zone", "c"}, {"tier", "gold"}},
                                     {{"tier", "spot"}}};
  for (const Labels& selector : std::vector<Labels>{
           {},
           {{"zone", "a"}},
           {{"zone", "!a"}},
           {{"zone", "in(a,b)"}},
           {{"zone", "!in(a, b)"}},
           {{"zone", "in( c )"}, {"tier", "!spot"}},
           {{"zone", "in(a"}},
           {{"zone", "in()"}},
           {{"zone", "in(a,,b)"}},
           {{"zone", ""}},
           {{"zone", "!"}},
           {{"zone", "a,b"}},
           {{"zone", "a)"}},
       })
    Agree(selector, nodes);
  // An empty label name (no attribute dictionary can hold one).
  llvm::Expected<raycc::ray::LabelConstraint> empty = raycc::ray::parseLabelConstraint("", "a");
  ASSERT_FALSE(static_cast<bool>(empty));
  absl::StatusOr<raycc::scheduling::LabelSelector> runtime =
      raycc::scheduling::ParseLabelSelector({{"", "a"}});
  ASSERT_FALSE(runtime.ok());
  EXPECT_EQ(llvm::toString(empty.takeError()), runtime.status().message());
  EXPECT_GT(refused_, 5);
  EXPECT_GT(matched_, 10);
  EXPECT_GT(unmatched_, 10);
}

TEST_F(LabelSelectorAgreementTest, GeneratedSelectors) {
  std::mt19937 rng(17);
  const std::vector<std::string> keys = {"zone", "tier", "rack"}, values = {"a", "b", "c", ""};
  auto pick = [&](const std::vector<std::string>& from) { return from[rng() % from.size()]; };
  for (int round = 0; round < 2000; ++round) {
    Labels selector;
    for (int k = static_cast<int>(rng() % 3); k >= 0; --k) {
      std::string spec = rng() % 2 ? "!" : "";
      if (rng() % 2) {
        spec += "in(";
        for (int v = static_cast<int>(rng() % 3); v >= 0; --v) spec += pick(values) + (v > 0 ? "," : "");
        if (rng() % 8) spec += ")";
      } else {
        spec += pick(values);
      }
      selector[pick(keys)] = spec;
    }
    std::vector<Labels> nodes(4);
    for (Labels& node : nodes)
      for (const std::string& key : keys)
        if (rng() % 3) node[key] = pick(values);
    Agree(selector, nodes);
  }
  EXPECT_GT(refused_, 100);
  EXPECT_GT(matched_, 500);
  EXPECT_GT(unmatched_, 500);
}

}  // namespace
