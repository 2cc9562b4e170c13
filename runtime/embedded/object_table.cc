#include "embedded/object_table.h"

namespace raycc::internal::embedded {

thread_local Garbage garbage;

void ObjectTable::DrainRefEvents() {
  // (An event posted after this check is applied by the next drain.)
  while (ref_events_.pending()) {
    // The two buffers trade places, so neither grows again from empty (a
    // burst of drops would otherwise reallocate its way up every time).
    std::vector<std::pair<ObjectId, int>> events = std::move(spare_ref_events_);
    ref_events_.TakeAll(events);
    // Freeing a value may drop references it held: those post new events,
    // applied by the next round.
    auto apply = [this](iterator it, int delta) {
      it->second.refs += delta;
      if (delta > 0) it->second.counted = true;
      if (delta < 0) FreeIfUnused(it);
    };
    // Objects that exist go first, so the objects bring_in_ makes reuse
    // the nodes freed here (work posted but not brought in pins nothing, so
    // freeing before it comes in is safe). An event whose object is not
    // there yet was made after its task was posted: it moves to the front
    // of `events`, in order (nothing allocated, so nothing taken can be
    // lost), and is applied once bring_in_ has run.
    size_t later = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      if (i + kPrefetchAhead < events.size()) map_.prefetch(events[i + kPrefetchAhead].first);
      auto it = map_.find(events[i].first);
      if (it == map_.end()) {
        events[later++] = events[i];
      } else {
        apply(it, events[i].second);
      }
    }
    bring_in_();
    for (size_t i = 0; i < later; ++i) {
      auto it = map_.find(events[i].first);
      if (it != map_.end()) apply(it, events[i].second);  // (else freed already, or never ours)
    }
    constexpr size_t kMaxSpare = 1 << 16;  // (2 MB; a larger one is freed)
    if (events.capacity() > spare_ref_events_.capacity() && events.capacity() <= kMaxSpare) {
      spare_ref_events_ = std::move(events);
    }
  }
}

void ObjectTable::FreeIfUnused(iterator it) {
  if (!Unused(it->second)) return;
  Object& o = it->second;
  garbage.objects.push_back(
      {std::move(o.value), std::move(o.data), std::move(o.error), std::move(o.pending), std::move(o.run)});
  map_.erase(it);
}

std::optional<ObjectId> ObjectTable::PinContained(const std::vector<TaskArgument>& args) {
  for (const TaskArgument& arg : args)
    for (const ObjectId& id : arg.contained)
      if (!map_.contains(id)) return id;
  for (const TaskArgument& arg : args)
    for (const ObjectId& id : arg.contained) ++map_.find(id)->second.uses;
  return std::nullopt;
}

std::optional<ObjectId> ObjectTable::PinArgs(const std::vector<TaskArgument>& args) {
  for (const TaskArgument& arg : args)
    if (arg.by_ref && !map_.contains(arg.ref)) return arg.ref;
  if (std::optional<ObjectId> missing = PinContained(args)) return missing;
  for (const TaskArgument& arg : args)
    if (arg.by_ref) ++map_.find(arg.ref)->second.uses;
  return std::nullopt;
}

void ObjectTable::UnpinContained(const TaskArgument& arg) {
  // (References the call made from these, posted, count first.)
  if (!arg.contained.empty()) DrainRefEvents();
  for (const ObjectId& id : arg.contained) {
    auto it = map_.find(id);
    if (it == map_.end()) continue;
    --it->second.uses;
    MaybeFree(id, &it->second);
  }
}

void ObjectTable::UnpinArgs(const std::vector<TaskArgument>& args) {
  for (const TaskArgument& arg : args) UnpinContained(arg);
  for (const TaskArgument& arg : args) {
    if (!arg.by_ref) continue;
    auto it = map_.find(arg.ref);
    if (it == map_.end()) continue;
    --it->second.uses;
    MaybeFree(arg.ref, &it->second);
  }
}

}  // namespace raycc::internal::embedded
