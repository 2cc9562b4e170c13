#include "embedded/actor_manager.h"

#include <pthread.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "gcs/gcs.h"
#include "raycc/runtime/api/errors.h"

namespace raycc::internal::embedded {

void ActorManager::Start(std::shared_ptr<Actor> actor, int threads) {
  try {
    host_.UseArgs(actor->ctor_args, +1, "actor " + actor->factory->name);
  } catch (...) {
    MarkDead(*actor, "it was never created: an argument is missing");
    throw;
  }
  host_.Place(*actor);
  actors_[actor->id] = actor;
  actor->threads_left = threads;
  for (int i = 0; i < threads; ++i) {
    actor->threads.emplace_back([this, actor, i] {
#if defined(__GLIBC__)
      pthread_setname_np(pthread_self(), absl::StrCat("raycc-actor-", i).substr(0, 15).c_str());
#endif
      host_.RunActorThread(*actor, i, [&](std::unique_lock<std::mutex>& lock) { Loop(actor, i, lock); });
    });
  }
}

void ActorManager::CheckKnown(const ActorId& id) const {
  if (!actors_.contains(id) && !Ended(id)) ThrowUnknown(id);
}

void ActorManager::Submit(const ActorId& id, std::shared_ptr<ActorCall> call) {
  auto it = actors_.find(id);
  if (it == actors_.end() || it->second->dead) {
    auto info = std::make_shared<ErrorInfo>();
    info->actor_died = true;
    if (it == actors_.end()) {
      info->message = Ended(id).value_or("unknown actor " + id.Hex());
    } else {
      const Actor& actor = *it->second;
      info->message =
          absl::StrCat("actor ", id.Hex(), " (", actor.factory->name, ") is dead: ", actor.death_cause);
    }
    host_.FailCall(call->result, std::move(info));
    host_.UseArgs(call->args, -1, "");
    return;
  }
  Actor& actor = *it->second;
  actor.queue.push_back(std::move(call));
  actor.cv.notify_one();
}

void ActorManager::Kill(const ActorId& id, bool no_restart) {
  auto it = actors_.find(id);
  if (it == actors_.end()) {
    if (Ended(id)) return;  // (ended and forgotten: dead already)
    ThrowUnknown(id);
  }
  Actor& actor = *it->second;
  if (actor.dead) return;
  if (!no_restart && actor.restarts_left != 0) {
    actor.restart_requested = true;
    actor.cv.notify_all();
    return;
  }
  MarkDead(actor, "it was killed");
  actor.cv.notify_all();
}

void ActorManager::GroupRemoved(const PlacementGroupId& group) {
  for (auto& [id, actor] : actors_) {
    if (actor->group != group || actor->dead) continue;
    MarkDead(*actor, actor->node < 0 ? "its placement group was removed before it could be placed"
                                     : "its placement group was removed");
    actor->cv.notify_all();
  }
}

void ActorManager::Stop(std::vector<std::thread>* threads, const std::string& cause) {
  for (auto& [id, actor] : actors_) {
    MarkDead(*actor, cause);
    actor->cv.notify_all();
    for (std::thread& t : actor->threads) threads->push_back(std::move(t));
    actor->threads.clear();
  }
}

void ActorManager::DestroyInstances() {
  for (auto& [id, actor] : actors_) {
    if (actor->instance != nullptr) actor->factory->destroy(actor->instance);
    actor->instance = nullptr;
  }
}

std::vector<std::thread> ActorManager::TakeEnded() {
  std::vector<std::thread> threads;
  for (const ActorId& id : ended_) {
    auto it = actors_.find(id);
    if (it == actors_.end()) continue;
    for (std::thread& t : it->second->threads) threads.push_back(std::move(t));
    actors_.erase(it);
  }
  ended_.clear();
  return threads;
}

void ActorManager::MarkDead(Actor& actor, std::string cause) {
  if (actor.dead) return;
  actor.dead = true;
  if (actor.death_cause.empty()) actor.death_cause = cause;
  gcs_.MarkActorDead(actor.id, std::move(cause)).IgnoreError();  // (registered before Start)
}

void ActorManager::Die(const Actor& actor, const ActorCall& call) {
  auto info = std::make_shared<ErrorInfo>();
  info->actor_died = true;
  info->message =
      absl::StrCat("actor ", actor.id.Hex(), " (", actor.factory->name, ") is dead: ", actor.death_cause);
  host_.FailCall(call.result, std::move(info));
  host_.UseArgs(call.args, -1, "");
}

void ActorManager::Construct(Actor& actor, const CollectedArgs& args, std::unique_lock<std::mutex>& lock) {
  while (true) {
    lock.unlock();
    void* instance = nullptr;
    int no_retries = 0;
    bool retry = false;
    Outcome outcome = host_.AttemptCall(actor.traced, actor.node, no_retries, false, &retry, [&] {
      Outcome out = Invoke(nullptr, [&] {
        instance = actor.factory->create(args.views);
        return std::string();
      });
      if (!out.error && instance == nullptr) out.error = std::make_shared<ErrorInfo>();  // (returned null)
      return out;
    });
    lock.lock();
    if (instance != nullptr) {
      actor.instance = instance;
      proto::Address where;
      where.set_node_id(host_.NodeIdOf(actor.node).Binary());
      gcs_.MarkActorAlive(actor.id, where).IgnoreError();  // (fails only once it is dead)
      return;
    }
    if (outcome.error->exit_actor) {  // (for good: no restart)
      MarkDead(actor, "its constructor called ExitActor");
      return;
    }
    if (actor.restarts_left != 0 && !host_.Stopping() && !actor.dead) {
      if (actor.restarts_left > 0) --actor.restarts_left;
      ++actor.restarts;
      gcs_.MarkActorRestarting(actor.id).IgnoreError();
      continue;
    }
    MarkDead(actor, "its constructor failed: " + (outcome.error->type.empty()
                                                      ? std::string("it returned null")
                                                      : outcome.error->type + ": " + outcome.error->message));
    return;
  }
}

void ActorManager::Rebuild(Actor& actor, std::unique_lock<std::mutex>& lock) {
  actor.cv.wait(lock, [&] { return actor.active == 0; });
  if (actor.dead || host_.Stopping()) {  // (killed for good meanwhile)
    actor.restart_requested = false;
    actor.cv.notify_all();
    return;
  }
  void* old = actor.instance;
  actor.instance = nullptr;
  lock.unlock();
  if (old != nullptr) actor.factory->destroy(old);
  lock.lock();
  if (actor.restarts_left > 0) --actor.restarts_left;
  ++actor.restarts;
  gcs_.MarkActorRestarting(actor.id).IgnoreError();
  CollectedArgs collected;
  host_.CollectArgs(actor.ctor_args, actor.factory->arg_types, lock, &collected);  // (good the first time)
  Construct(actor, collected, lock);
  actor.restart_requested = false;
  actor.cv.notify_all();
}

void ActorManager::Loop(const std::shared_ptr<Actor>& shared, int index, std::unique_lock<std::mutex>& lock) {
  Actor& actor = *shared;
  auto ending = [&] { return host_.Stopping() || actor.dead; };
  // A restart asked for: thread 0 rebuilds, the others wait for it.
  auto restart = [&] {
    if (index == 0) {
      Rebuild(actor, lock);
    } else {
      actor.cv.wait(lock, [&] { return ending() || !actor.restart_requested; });
    }
  };
  if (index == 0 && actor.node < 0) {
    // No room when it was created: wait for some (or for its placement
    // group to be reserved); a removed group kills it (GroupRemoved).
    host_.WaitUntil(
        lock, [&] { return ending() || host_.Place(actor); }, /*for_room=*/true);
  }
  if (index == 0) {
    // Construct the actor once its arguments exist.
    host_.WaitUntil(
        lock, [&] { return ending() || host_.ArgsReady(actor.ctor_args); }, false);
    if (!ending()) {
      CollectedArgs collected;
      if (std::shared_ptr<const ErrorInfo> error =
              host_.CollectArgs(actor.ctor_args, actor.factory->arg_types, lock, &collected)) {
        MarkDead(actor, "a constructor argument failed: " + error->message);
      } else if (!ending()) {  // (CollectArgs may release the lock)
        Construct(actor, collected, lock);
      }
    }
    actor.created = true;
    actor.cv.notify_all();
  }
  actor.cv.wait(lock, [&] { return actor.created; });
  host_.SetThreadNode(actor.node);
  while (true) {
    actor.cv.wait(lock, [&] { return ending() || actor.restart_requested || !actor.queue.empty(); });
    if (actor.restart_requested && !ending()) {
      restart();
      continue;
    }
    if (ending()) {
      while (!actor.queue.empty()) {
        Die(actor, *actor.queue.front());
        actor.queue.pop_front();
      }
      break;
    }
    std::shared_ptr<ActorCall> call = std::move(actor.queue.front());
    actor.queue.pop_front();
    // Calls run in submission order: wait for this one's arguments.
    host_.WaitUntil(
        lock, [&] { return ending() || host_.ArgsReady(call->args); }, false);
    // A rebuild asked for meanwhile happens before this call runs.
    if (actor.restart_requested && !ending()) restart();
    if (ending()) {
      Die(actor, *call);
      continue;
    }
    // Running from here on: a rebuild asked for now waits for this call
    // (which may release the lock to make its arguments' bytes).
    ++actor.active;
    const RemoteMethod& method = *call->method;
    CollectedArgs collected;
    if (std::shared_ptr<const ErrorInfo> error =
            host_.CollectArgs(call->args, method.arg_types, lock, &collected)) {
      host_.FailCall(call->result, std::move(error));
      host_.UseArgs(call->args, -1, "");
    } else {
      void* self = actor.instance;
      for (bool retry = true; retry;) {
        lock.unlock();
        Outcome outcome = host_.AttemptCall(
            call->traced, actor.node, call->retries_left, call->retry_exceptions, &retry, [&] {
              return Invoke(method.invoke_value ? std::function<TypedValue()>([&] {
                              return method.invoke_value(self, collected.views);
                            })
                                                : nullptr,
                            [&] { return method.invoke(self, collected.views); });
            });
        lock.lock();
        if (retry) continue;
        if (outcome.error != nullptr && outcome.error->exit_actor) {
          // ExitActor: the actor ends for good; this call and those queued
          // behind it fail as calls of a dead actor do.
          MarkDead(actor, absl::StrCat("it exited: ", method.name, " called ExitActor"));
          actor.cv.notify_all();
          Die(actor, *call);
        } else {
          host_.FinishCall(call->result, std::move(outcome), method.name);
          host_.UseArgs(call->args, -1, "");
        }
      }
    }
    if (--actor.active == 0 && actor.restart_requested) actor.cv.notify_all();
  }
  if (index == 0) {
    host_.UseArgs(actor.ctor_args, -1, "");
    if (actor.node >= 0) host_.Unplace(actor);
  }
  if (--actor.threads_left > 0) return;
  // The last thread out ends the instance (a dead actor's state goes now,
  // not at Shutdown) and leaves its threads to be taken.
  void* instance = actor.instance;
  actor.instance = nullptr;
  ended_.push_back(actor.id);
  lock.unlock();
  if (instance != nullptr) actor.factory->destroy(instance);
}

std::optional<std::string> ActorManager::Ended(const ActorId& id) const {
  std::optional<proto::ActorInfo> info = gcs_.GetActor(id);
  if (info && info->state() == proto::DEAD) {
    return absl::StrCat("actor ", id.Hex(), " (", info->spec().creation_function().name(),
                        ") is dead: ", info->death_cause());
  }
  // (One of this runtime's actors that ended so long ago the directory
  // forgot it too.)
  if (!info && id.Job() == job_)
    return absl::StrCat("actor ", id.Hex(), " (?) is dead: it ended long ago (its record is no longer kept)");
  return std::nullopt;
}

void ActorManager::ThrowUnknown(const ActorId& id) {
  throw RayccError("unknown actor " + id.Hex() + " (not created by this runtime)");
}

}  // namespace raycc::internal::embedded
