// Actors with the runtime API: a named bank-account actor whose calls run in
// the order each caller sent them, a second handle found by name, an
// application error that reaches the caller as TaskError without killing
// the actor, and a kill that makes later calls fail with ActorDiedError.
//
//   actors

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "raycc/api.h"

class Account {
 public:
  static Account* Open(int64_t balance) { return new Account(balance); }
  int64_t Deposit(int64_t amount) { return balance_ += amount; }
  int64_t Withdraw(int64_t amount) {
    if (amount > balance_) throw std::runtime_error("insufficient funds: " + std::to_string(balance_));
    return balance_ -= amount;
  }
  int64_t Balance() const { return balance_; }

 private:
  explicit Account(int64_t balance) : balance_(balance) {}
  int64_t balance_;
};
RAYCC_REMOTE(Account::Open, &Account::Deposit, &Account::Withdraw, &Account::Balance);

int main(int argc, char** argv) {
  raycc::Init(argc, argv);
  auto account = raycc::Actor(Account::Open).SetName("alice").Remote(int64_t{100});
  // Calls from one caller run in order: 100 deposits of 1, then a read.
  std::vector<raycc::ObjectRef<int64_t>> deposits;
  for (int i = 0; i < 100; ++i) deposits.push_back(account.Task(&Account::Deposit).Remote(int64_t{1}));
  std::printf("after 100 deposits: %lld\n",
              static_cast<long long>(*account.Task(&Account::Balance).Remote().Get()));

  // Anyone can find the actor by its name.
  auto same = raycc::GetActor<Account>("alice");
  std::printf("found by name: %s\n", same ? "yes" : "no");

  try {
    same->Task(&Account::Withdraw).Remote(int64_t{1000}).Get();
  } catch (const raycc::TaskError& e) {
    std::printf("withdraw 1000 failed: %s\n", e.what());
  }
  std::printf("still alive, balance %lld\n",
              static_cast<long long>(*account.Task(&Account::Withdraw).Remote(int64_t{50}).Get()));

  account.Kill();
  try {
    account.Task(&Account::Balance).Remote().Get();
  } catch (const raycc::ActorDiedError&) {
    std::printf("after Kill: ActorDiedError\n");
  }
  raycc::Shutdown();
  return 0;
}
