#include "core_worker/task_executor.h"

#include <unistd.h>

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core_worker/user_code.h"
#include "raycc/runtime/api/errors.h"
#include "raycc/runtime/api/remote_registry.h"
#include "raycc/runtime/common/id.h"

namespace raycc::core_worker {
namespace {

std::string ProgramName() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, n) : std::string("this worker's program");
}

void Fail(const proto::TaskSpec& task, std::string type, std::string message, proto::PushTaskReply* reply) {
  proto::TaskError* error = reply->mutable_error();
  error->set_function_name(task.function().name());
  error->set_exception_type(std::move(type));
  error->set_message(std::move(message));
  error->set_task_id(task.task_id());
}

}  // namespace

namespace {

// The arguments as the function takes them: `arity` values (the owner
// resolved every reference). False, with the error in `reply`, otherwise.
bool TakeArgs(const proto::TaskSpec& task, size_t arity, internal::ArgBuffers* args,
              proto::PushTaskReply* reply, const RefReader& read_ref) {
  const std::string& name = task.function().name();
  if (arity != internal::RemoteFunction::kAnyArity && static_cast<size_t>(task.args_size()) != arity) {
    Fail(task, "raycc::RayccError",
         absl::StrCat("'", name, "' takes ", arity, " arguments, the task has ", task.args_size()), reply);
    return false;
  }
  for (const proto::TaskArg& arg : task.args()) {
    if (arg.kind_case() == proto::TaskArg::kObjectRef && read_ref) {
      absl::StatusOr<internal::ArgView> view = read_ref(arg);
      if (!view.ok()) {
        Fail(task, "raycc::RayccError",
             absl::StrCat("argument ", args->size(), " of '", name, "': ", view.status().message()), reply);
        return false;
      }
      args->push_back(*std::move(view));
      continue;
    }
    if (arg.kind_case() != proto::TaskArg::kValue) {
      Fail(task, "raycc::RayccError", "an argument arrived as a reference; the owner must resolve it first",
           reply);
      return false;
    }
    args->emplace_back(arg.value());
  }
  return true;
}

// Runs `call` (user code); an exception becomes the reply's error.
template <typename Call>
bool Guarded(const proto::TaskSpec& task, proto::PushTaskReply* reply, Call&& call) {
  UserError error;
  if (RunUserCode(std::forward<Call>(call), &error)) return true;
  if (error.exit_actor) reply->set_worker_exiting(true);  // (ExitActor: the actor ends for good)
  Fail(task, std::move(error.type), std::move(error.message), reply);
  return false;
}

// The id of the task's one return value (null, with the error in `reply`).
std::optional<ObjectId> ResultId(const proto::TaskSpec& task, proto::PushTaskReply* reply) {
  absl::StatusOr<TaskId> task_id = TaskId::FromBinary(task.task_id());
  absl::StatusOr<ObjectId> result_id =
      task_id.ok() ? ObjectId::ForReturn(*task_id, 1) : absl::StatusOr<ObjectId>(task_id.status());
  if (!result_id.ok()) {
    Fail(task, "raycc::RayccError", std::string(result_id.status().message()), reply);
    return std::nullopt;
  }
  return *result_id;
}

// Adds the task's one return value.
bool Return(const proto::TaskSpec& task, std::string value, proto::PushTaskReply* reply) {
  std::optional<ObjectId> id = ResultId(task, reply);
  if (!id) return false;
  proto::ReturnObject* out = reply->add_return_objects();
  out->set_object_id(id->Binary());
  out->set_data(std::move(value));
  return true;
}

// Adds the result `call` makes as a value: offered to `write_result` first,
// else serialized into the reply. Serializing is the user's type's code too:
// what it throws becomes the reply's error.
template <typename Call>
void ReturnValue(const proto::TaskSpec& task, proto::PushTaskReply* reply, const ResultWriter& write_result,
                 Call&& call) {
  internal::TypedValue value;
  if (!Guarded(task, reply, [&] { value = call(); })) return;
  std::optional<ObjectId> id = ResultId(task, reply);
  if (!id) return;
  bool written = false;
  if (!Guarded(task, reply, [&] { written = write_result(*id, value); })) return;
  if (written) {
    proto::ReturnObject* out = reply->add_return_objects();
    out->set_object_id(id->Binary());
    out->set_in_plasma(true);
    return;
  }
  std::string bytes;
  if (Guarded(task, reply, [&] { bytes = value.serialize(value.value.get()); }))
    Return(task, std::move(bytes), reply);
}

// The suffix of a compiled plan's gated functions and methods
// (internal::GatedFunction).
constexpr std::string_view kGated = "+after";

// The registered function `task` names (null, with the error in `reply`).
const internal::RemoteFunction* FindFunction(const proto::TaskSpec& task, proto::PushTaskReply* reply) {
  const std::string& name = task.function().name();
  const internal::RemoteFunction* function = nullptr;
  try {
    function = internal::RemoteRegistry::Instance().FunctionByName(name, task.function().signature());
    // A compiled plan's gated variant ("f+after"), made here as the driver made it.
    if (function == nullptr && name.ends_with(kGated)) {
      const internal::RemoteFunction* base = internal::RemoteRegistry::Instance().FunctionByName(
          std::string_view(name).substr(0, name.size() - kGated.size()));
      if (base != nullptr) function = internal::GatedFunction(base);
    }
  } catch (const RayccError& e) {
    Fail(task, "raycc::RayccError", e.what(), reply);
    return nullptr;
  }
  if (function == nullptr) {
    Fail(task, "raycc::RayccError",
         absl::StrCat("no remote function '", name, "' is registered in ", ProgramName(),
                      " (RAYCC_REMOTE it in the program the driver runs)"),
         reply);
  }
  return function;
}

}  // namespace

void ExecuteTask(const proto::TaskSpec& task, proto::PushTaskReply* reply, const RefReader& read_ref,
                 const ResultWriter& write_result) {
  const internal::RemoteFunction* function = FindFunction(task, reply);
  if (function == nullptr) return;
  if (!function->invoke) {
    Fail(task, "raycc::RayccError", absl::StrCat("'", task.function().name(), "' is not a task function"),
         reply);
    return;
  }
  internal::ArgBuffers args;
  if (!TakeArgs(task, function->arity, &args, reply, read_ref)) return;
  if (write_result && function->invoke_value && !function->small_result) {
    ReturnValue(task, reply, write_result, [&] { return function->invoke_value(args); });
    return;
  }
  std::string result;
  if (Guarded(task, reply, [&] { result = function->invoke(args); })) Return(task, std::move(result), reply);
}

void* CreateActorInstance(const proto::TaskSpec& task, proto::PushTaskReply* reply,
                          const internal::RemoteFunction** factory, const RefReader& read_ref) {
  const internal::RemoteFunction* function = FindFunction(task, reply);
  if (function == nullptr) return nullptr;
  if (!function->create) {
    Fail(task, "raycc::RayccError",
         absl::StrCat("'", task.function().name(), "' is not an actor factory (RAYCC_REMOTE a C::Create)"),
         reply);
    return nullptr;
  }
  internal::ArgBuffers args;
  if (!TakeArgs(task, function->arity, &args, reply, read_ref)) return nullptr;
  void* instance = nullptr;
  if (!Guarded(task, reply, [&] { instance = function->create(args); })) return nullptr;
  if (instance == nullptr) {
    Fail(task, "raycc::RayccError", absl::StrCat("'", task.function().name(), "' returned no instance"),
         reply);
    return nullptr;
  }
  *factory = function;
  (void)Return(task, std::string(), reply);  // (the creation's result: a nil marker)
  return instance;
}

void ExecuteMethod(const proto::TaskSpec& task, void* self, proto::PushTaskReply* reply,
                   const RefReader& read_ref, const ResultWriter& write_result) {
  const std::string& name = task.function().name();
  const internal::RemoteMethod* method = nullptr;
  try {
    method = internal::RemoteRegistry::Instance().MethodByName(name, task.function().signature());
    if (method == nullptr && name.ends_with(kGated)) {
      const internal::RemoteMethod* base = internal::RemoteRegistry::Instance().MethodByName(
          std::string_view(name).substr(0, name.size() - kGated.size()));
      if (base != nullptr) method = internal::GatedMethod(base);
    }
  } catch (const RayccError& e) {
    Fail(task, "raycc::RayccError", e.what(), reply);
    return;
  }
  if (method == nullptr || !method->invoke) {
    Fail(task, "raycc::RayccError",
         absl::StrCat("no actor method '", name, "' is registered in ", ProgramName(),
                      " (RAYCC_REMOTE(&C::Method) in the program the driver runs)"),
         reply);
    return;
  }
  internal::ArgBuffers args;
  if (!TakeArgs(task, method->arity, &args, reply, read_ref)) return;
  if (write_result && method->invoke_value && !method->small_result) {
    ReturnValue(task, reply, write_result, [&] { return method->invoke_value(self, args); });
    return;
  }
  std::string result;
  if (Guarded(task, reply, [&] { result = method->invoke(self, args); }))
    Return(task, std::move(result), reply);
}

}  // namespace raycc::core_worker
