#include "core_worker/task_executor.h"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "raycc/runtime/api/errors.h"
#include "raycc/runtime/api/remote_registry.h"
#include "raycc/runtime/common/id.h"

namespace raycc::core_worker {
namespace {

std::string Demangle(const char* name) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && demangled != nullptr ? demangled : name;
  std::free(demangled);
  return out;
}

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

void ExecuteTask(const proto::TaskSpec& task, proto::PushTaskReply* reply) {
  const std::string& name = task.function().name();
  const internal::RemoteFunction* function = nullptr;
  try {
    function = internal::RemoteRegistry::Instance().FunctionByName(name, task.function().signature());
  } catch (const RayccError& e) {
    Fail(task, "raycc::RayccError", e.what(), reply);
    return;
  }
  if (function == nullptr || !function->invoke) {
    Fail(task, "raycc::RayccError",
         absl::StrCat("no remote function '", name, "' is registered in ", ProgramName(),
                      " (RAYCC_REMOTE it in the program the driver runs)"),
         reply);
    return;
  }
  if (static_cast<size_t>(task.args_size()) != function->arity) {
    Fail(task, "raycc::RayccError",
         absl::StrCat("'", name, "' takes ", function->arity, " arguments, the task has ", task.args_size()),
         reply);
    return;
  }
  internal::ArgBuffers args;
  for (const proto::TaskArg& arg : task.args()) {
    if (arg.kind_case() != proto::TaskArg::kValue) {
      Fail(task, "raycc::RayccError", "an argument arrived as a reference; the owner must resolve it first",
           reply);
      return;
    }
    args.emplace_back(arg.value());
  }
  absl::StatusOr<TaskId> task_id = TaskId::FromBinary(task.task_id());
  absl::StatusOr<ObjectId> result_id =
      task_id.ok() ? ObjectId::ForReturn(*task_id, 1) : absl::StatusOr<ObjectId>(task_id.status());
  if (!result_id.ok()) {
    Fail(task, "raycc::RayccError", std::string(result_id.status().message()), reply);
    return;
  }
  try {
    std::string result = function->invoke(args);
    proto::ReturnObject* out = reply->add_return_objects();
    out->set_object_id(result_id->Binary());
    out->set_data(std::move(result));
  } catch (const std::exception& e) {
    Fail(task, Demangle(typeid(e).name()), e.what(), reply);
  } catch (...) {
    std::type_info* type = abi::__cxa_current_exception_type();
    Fail(task, type != nullptr ? Demangle(type->name()) : "unknown", "(not a std::exception)", reply);
  }
}

}  // namespace raycc::core_worker
