#include "embedded/user_call.h"

#include "core_worker/user_code.h"

namespace raycc::internal::embedded {

Outcome Invoke(const std::function<TypedValue()>& as_value, const std::function<std::string()>& as_bytes) {
  Outcome out;
  core_worker::UserError raised;
  bool ok = core_worker::RunUserCode(
      [&] {
        if (as_value) {
          out.typed = as_value();
        } else {
          out.data = std::make_shared<const std::string>(as_bytes());
        }
      },
      &raised);
  if (!ok) {
    out.error = std::make_shared<ErrorInfo>();
    out.error->type = std::move(raised.type);
    out.error->message = std::move(raised.message);
    out.error->exit_actor = raised.exit_actor;
  }
  return out;
}

Outcome InvokeTask(const RemoteFunction& f, const ArgBuffers& views) {
  return Invoke(f.invoke_value ? std::function<TypedValue()>([&] { return f.invoke_value(views); }) : nullptr,
                [&] { return f.invoke(views); });
}

}  // namespace raycc::internal::embedded
