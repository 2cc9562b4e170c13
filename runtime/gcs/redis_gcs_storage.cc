#include "gcs/redis_gcs_storage.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace raycc::gcs {

struct RedisGcsStorage::Reply {
  std::unique_ptr<redisReply, void (*)(void*)> reply{nullptr, freeReplyObject};
  const redisReply* operator->() const { return reply.get(); }
};

absl::StatusOr<RedisAddress> ParseRedisAddress(absl::string_view text) {
  RedisAddress address;
  absl::string_view port = text;
  if (size_t colon = text.rfind(':'); colon != absl::string_view::npos) {
    if (colon > 0) address.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (!absl::SimpleAtoi(port, &address.port) || address.port <= 0 || address.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("Redis address '", text, "': expected HOST:PORT with a port in 1..65535"));
  }
  return address;
}

absl::StatusOr<std::unique_ptr<RedisGcsStorage>> RedisGcsStorage::Connect(RedisAddress address) {
  std::unique_ptr<RedisGcsStorage> storage(new RedisGcsStorage(std::move(address)));
  std::lock_guard<std::mutex> lock(storage->mu_);
  if (absl::Status s = storage->ConnectLocked(); !s.ok()) return s;
  // A Redis restarted with its data answers LOADING until it has read it:
  // waited for (looked at every 100 ms, up to loading_wait), not an error.
  const auto deadline = std::chrono::steady_clock::now() + storage->address_.loading_wait;
  for (bool said = false;;) {
    Reply reply = storage->SendLocked({"HLEN", storage->HashOf("meta")});
    if (reply.reply == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("Redis at ", storage->where(), " does not answer: ", storage->DropLocked()));
    }
    const bool loading = reply->type == REDIS_REPLY_ERROR && absl::StartsWith(reply->str, "LOADING");
    if (!loading) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::UnavailableError(absl::StrCat("Redis at ", storage->where(),
                                                 " was still loading its data after ",
                                                 storage->address_.loading_wait.count(), " ms"));
    }
    if (!said) {
      std::fprintf(stderr, "raycc-gcs: Redis at %s is loading its data; waiting for it\n",
                   storage->where().c_str());
      said = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return storage;
}

RedisGcsStorage::~RedisGcsStorage() {
  if (context_ != nullptr) redisFree(context_);
}

std::string RedisGcsStorage::where() const { return absl::StrCat(address_.host, ":", address_.port); }

std::string RedisGcsStorage::HashOf(absl::string_view table) const {
  return absl::StrCat(address_.prefix, ":", table);
}

absl::Status RedisGcsStorage::ConnectLocked() {
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
  const timeval timeout{5, 0};
  redisContext* context = redisConnectWithTimeout(address_.host.c_str(), address_.port, timeout);
  if (context == nullptr || context->err != 0) {
    std::string why = context != nullptr ? context->errstr : "out of memory";
    if (context != nullptr) redisFree(context);
    return absl::UnavailableError(absl::StrCat("Redis at ", where(), " cannot be reached: ", why));
  }
  // (A command that hangs must not hang the GCS: it fails after the timeout.)
  redisSetTimeout(context, timeout);
  context_ = context;
  Reply reply = !address_.password.empty() ? SendLocked({"AUTH", address_.password}) : SendLocked({"PING"});
  if (reply.reply == nullptr) {
    return absl::UnavailableError(absl::StrCat("Redis at ", where(), " does not answer: ", DropLocked()));
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string why(reply->str, reply->len);
    // (Connected: Redis is reading its data back. Connect waits for it.)
    if (absl::StartsWith(why, "LOADING")) return absl::OkStatus();
    DropLocked();
    // A password wanted or wrong is a refusal; anything else (LOADING: a
    // restarted Redis reading its data back, BUSY, ...) is Redis not ready.
    if (absl::StartsWith(why, "NOAUTH") || absl::StartsWith(why, "WRONGPASS") ||
        absl::StrContains(why, "invalid password") || absl::StrContains(why, "without any password")) {
      return absl::PermissionDeniedError(
          absl::StrCat("Redis at ", where(), " refused the connection: ", why));
    }
    return absl::UnavailableError(absl::StrCat("Redis at ", where(), " is not ready: ", why));
  }
  return absl::OkStatus();
}

RedisGcsStorage::Reply RedisGcsStorage::SendLocked(std::initializer_list<absl::string_view> args) {
  absl::InlinedVector<const char*, 4> argv;
  absl::InlinedVector<size_t, 4> lengths;
  for (absl::string_view a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  Reply reply;
  reply.reply.reset(static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data())));
  return reply;
}

std::string RedisGcsStorage::DropLocked() {
  std::string why = context_->errstr;
  redisFree(context_);
  context_ = nullptr;
  return why;
}

absl::StatusOr<RedisGcsStorage::Reply> RedisGcsStorage::CommandLocked(
    std::initializer_list<absl::string_view> args) {
  for (int attempt = 0;; ++attempt) {
    if (context_ == nullptr) {
      if (absl::Status s = ConnectLocked(); !s.ok()) return s;
    }
    Reply reply = SendLocked(args);
    if (reply.reply == nullptr) {
      // The connection broke (Redis restarted, a timeout): once more on a
      // fresh one, then fail.
      std::string why = DropLocked();
      if (attempt == 0) continue;
      return absl::UnavailableError(absl::StrCat("Redis at ", where(), ": ", why));
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      return absl::InternalError(absl::StrCat("Redis at ", where(), " failed ", *args.begin(), ": ",
                                              std::string(reply->str, reply->len)));
    }
    return reply;
  }
}

absl::Status RedisGcsStorage::Put(absl::string_view table, absl::string_view key, std::string value) {
  const std::string hash = HashOf(table);
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<Reply> reply = CommandLocked({"HSET", hash, key, value});
  return reply.status();
}

absl::StatusOr<std::optional<std::string>> RedisGcsStorage::Get(absl::string_view table,
                                                                absl::string_view key) {
  const std::string hash = HashOf(table);
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<Reply> reply = CommandLocked({"HGET", hash, key});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_NIL) return std::nullopt;
  return std::string((*reply)->str, (*reply)->len);
}

absl::StatusOr<bool> RedisGcsStorage::Delete(absl::string_view table, absl::string_view key) {
  const std::string hash = HashOf(table);
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<Reply> reply = CommandLocked({"HDEL", hash, key});
  if (!reply.ok()) return reply.status();
  return (*reply)->integer > 0;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RedisGcsStorage::Scan(
    absl::string_view table, absl::string_view prefix) {
  const std::string hash = HashOf(table);
  std::vector<std::pair<std::string, std::string>> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    absl::StatusOr<Reply> reply = CommandLocked({"HGETALL", hash});
    if (!reply.ok()) return reply.status();
    const redisReply* r = reply->reply.get();
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
      absl::string_view key(r->element[i]->str, r->element[i]->len);
      if (!absl::StartsWith(key, prefix)) continue;
      out.emplace_back(std::string(key), std::string(r->element[i + 1]->str, r->element[i + 1]->len));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace raycc::gcs
