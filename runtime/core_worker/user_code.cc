#include "core_worker/user_code.h"

#include <cstdlib>

namespace raycc::core_worker {

std::string Demangle(const char* mangled) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string out = status == 0 && demangled != nullptr ? demangled : mangled;
  std::free(demangled);
  return out;
}

}  // namespace raycc::core_worker
