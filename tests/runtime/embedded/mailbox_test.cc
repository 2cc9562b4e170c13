// The embedded runtime's mailbox: posts from many threads all arrive, each
// poster's in its order, with nothing lost or taken twice; `pending` says
// whether anything waits.

#include "embedded/mailbox.h"

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace raycc::internal {
namespace {

TEST(MailboxTest, EveryPostArrivesOnceInEachPostersOrder) {
  constexpr int kPosters = 4, kEach = 20000;
  Mailbox<std::pair<int, int>, std::memory_order_seq_cst> mailbox;
  EXPECT_FALSE(mailbox.pending());
  std::atomic<int> done{0};
  std::vector<std::thread> posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) mailbox.Post({p, i});
      ++done;
    });
  }
  // The taker drains while they post, until all are done and nothing is left.
  std::vector<int> next(kPosters, 0);
  std::vector<std::pair<int, int>> taken;
  size_t total = 0;
  bool in_order = true;
  while (done.load() < kPosters || mailbox.pending()) {
    mailbox.TakeAll(taken);
    for (const auto& [p, i] : taken) {
      in_order = in_order && i == next[p];
      next[p] = i + 1;
    }
    total += taken.size();
  }
  for (std::thread& t : posters) t.join();
  mailbox.TakeAll(taken);
  total += taken.size();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(total, static_cast<size_t>(kPosters) * kEach);
  for (int p = 0; p < kPosters; ++p) EXPECT_EQ(next[p], kEach) << p;
  EXPECT_FALSE(mailbox.pending());
  EXPECT_TRUE(taken.empty());
  mailbox.Post({9, 9});
  EXPECT_TRUE(mailbox.pending(std::memory_order_relaxed));
  mailbox.TakeAll(taken);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0], std::make_pair(9, 9));
}

}  // namespace
}  // namespace raycc::internal
