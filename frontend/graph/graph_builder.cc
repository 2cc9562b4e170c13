// The graph builder's non-template half and the graph registry: what every
// task library links (raycc_graph). No MLIR here; the frontend turns the
// recorded trace into IR.

#include <cxxabi.h>
#include <dlfcn.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>

#include "raycc/graph.h"

namespace raycc {
namespace internal {

namespace {

/// The demangled form of a mangled name (the name itself when it is not one).
std::string Demangle(const char *mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void *)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

} // namespace

std::string DemangledName(const std::type_info &type) {
  return Demangle(type.name());
}

trace::SourceLocation ToTrace(const std::source_location &loc) {
  return {loc.file_name(), loc.line(), loc.column()};
}

namespace {
thread_local GraphBuilderCore *active_builder = nullptr;
std::atomic<uint64_t> next_serial{1};
} // namespace

GraphBuilderCore::GraphBuilderCore(trace::Graph *graph)
    : graph_(graph), serial_(next_serial.fetch_add(1)),
      previous_(active_builder) {
  active_builder = this;
}

GraphBuilderCore::~GraphBuilderCore() { active_builder = previous_; }

GraphBuilderCore &GraphBuilderCore::Active() {
  if (active_builder == nullptr) {
    throw std::logic_error(
        "a graph value was used outside the tracing of its graph");
  }
  return *active_builder;
}

void GraphBuilderCore::Error(const trace::SourceLocation &loc,
                             std::string message) {
  graph_->errors.push_back({loc, std::move(message)});
}

uint32_t GraphBuilderCore::AddValue(trace::Value value) {
  graph_->values.push_back(std::move(value));
  return static_cast<uint32_t>(graph_->values.size() - 1);
}

uint32_t GraphBuilderCore::AddOp(trace::Op op, trace::Value result) {
  op.result = AddValue(std::move(result));
  graph_->ops.push_back(std::move(op));
  return graph_->ops.back().result;
}

uint32_t GraphBuilderCore::AddFunction(trace::Function function,
                                       const trace::SourceLocation &loc) {
  auto &functions = graph_->functions;
  for (uint32_t i = 0; i < functions.size(); ++i) {
    if (functions[i].registered_name != function.registered_name ||
        function.registered_name.empty())
      continue;
    if (functions[i] == function)
      return i;
    // The same name with another signature: two overloads registered under
    // one spelled name, or a registration that does not match the call.
    Error(loc, "'" + function.registered_name +
                   "' is used with two different signatures in this graph");
    break;
  }
  functions.push_back(std::move(function));
  return static_cast<uint32_t>(functions.size() - 1);
}

std::string
GraphBuilderCore::RegisteredFunction(const std::string &key,
                                     const void *address,
                                     const trace::SourceLocation &loc) {
  if (const RemoteFunction *f = RemoteRegistry::Instance().FunctionByKey(key))
    return f->name;
  std::string what = "this function";
  Dl_info info;
  if (dladdr(address, &info) != 0 && info.dli_sname != nullptr)
    what = "'" + Demangle(info.dli_sname) + "'";
  Error(loc, what + " is not registered: add it to RAYCC_REMOTE(...)");
  return "";
}

std::string
GraphBuilderCore::RegisteredMethod(const std::string &key,
                                   const trace::SourceLocation &loc) {
  if (const RemoteMethod *m = RemoteRegistry::Instance().MethodByKey(key))
    return m->name;
  Error(loc, "this actor method is not registered: add &Class::Method to "
             "RAYCC_REMOTE(...)");
  return "";
}

bool GraphBuilderCore::CheckOperand(uint64_t owner, uint32_t id,
                                    const char *what,
                                    const trace::SourceLocation &loc) {
  if (owner == 0 || id == kNoValue) {
    Error(loc, std::string("the ") + what +
                   " was never assigned a value of this graph");
    return false;
  }
  if (owner != serial_) {
    Error(loc, std::string("the ") + what +
                   " belongs to another graph; values cannot cross graphs");
    return false;
  }
  return true;
}

void GraphBuilderCore::AddInput(std::string name, uint32_t value,
                                const trace::SourceLocation &loc) {
  for (const auto &in : graph_->inputs) {
    if (in.name == name) {
      Error(loc, "a second input named '" + name + "' (the first is at line " +
                     std::to_string(in.loc.line) + ")");
      return;
    }
  }
  if (name.empty())
    Error(loc, "an input needs a name");
  graph_->inputs.push_back({std::move(name), value, loc});
}

void GraphBuilderCore::AddOutput(std::string name, uint32_t value,
                                 const trace::SourceLocation &loc) {
  for (const auto &out : graph_->outputs) {
    if (out.name == name) {
      Error(loc, "a second output named '" + name + "' (the first is at line " +
                     std::to_string(out.loc.line) + ")");
      return;
    }
  }
  if (name.empty())
    Error(loc, "an output needs a name");
  const trace::Value &v = graph_->values[value];
  if (v.kind == trace::ValueKind::kActor ||
      v.kind == trace::ValueKind::kPlacementGroup) {
    Error(loc, "an output must be an object, not an actor or placement group");
    return;
  }
  graph_->outputs.push_back({std::move(name), value, loc});
}

std::string GraphBuilderCore::ActorClassOf(const std::string &factory_name,
                                           const std::type_info &type) {
  size_t colons = factory_name.rfind("::");
  if (colons != std::string::npos && colons > 0)
    return factory_name.substr(0, colons);
  return DemangledName(type);
}

std::vector<std::pair<std::string, std::string>>
SplitGraphParams(const char *text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view s(text);
  auto trim = [](std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front())))
      v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back())))
      v.remove_suffix(1);
    return v;
  };
  auto add = [&](std::string_view param) {
    param = trim(param);
    size_t end = param.size();
    size_t begin = end;
    while (begin > 0 &&
           (std::isalnum(static_cast<unsigned char>(param[begin - 1])) ||
            param[begin - 1] == '_')) {
      --begin;
    }
    out.emplace_back(std::string(trim(param.substr(0, begin))),
                     std::string(param.substr(begin)));
  };
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '<' || c == '(' || c == '[' || c == '{')
      ++depth;
    if (c == '>' || c == ')' || c == ']' || c == '}')
      --depth;
    if (c == ',' && depth == 0) {
      add(s.substr(start, i - start));
      start = i + 1;
    }
  }
  if (!trim(s.substr(start)).empty())
    add(s.substr(start));
  return out;
}

template <>
int64_t ParseGraphParam<int64_t>(const std::string &name,
                                 const std::string &text) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument("parameter '" + name +
                                "' is an integer; got '" + text + "'");
  }
  return value;
}

template <>
double ParseGraphParam<double>(const std::string &name,
                               const std::string &text) {
  char *end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0) {
    throw std::invalid_argument("parameter '" + name + "' is a number; got '" +
                                text + "'");
  }
  return value;
}

template <>
bool ParseGraphParam<bool>(const std::string &name, const std::string &text) {
  if (text == "true" || text == "1")
    return true;
  if (text == "false" || text == "0")
    return false;
  throw std::invalid_argument(
      "parameter '" + name + "' is a bool (true or false); got '" + text + "'");
}

template <>
std::string ParseGraphParam<std::string>(const std::string &name,
                                         const std::string &text) {
  return text;
}

bool AddGraph(trace::GraphEntry entry) {
  return trace::GraphRegistry::Instance().Add(std::move(entry));
}

} // namespace internal

GraphPlacementGroup
GraphBuilder::PlacementGroup(std::vector<std::map<std::string, double>> bundles,
                             PlacementStrategy strategy, std::string name,
                             std::source_location loc) {
  trace::Op op;
  op.kind = trace::OpKind::kPlacementGroup;
  op.loc = internal::ToTrace(loc);
  if (bundles.empty())
    Error(op.loc, "a placement group needs at least one bundle");
  int count = static_cast<int>(bundles.size());
  op.bundles = std::move(bundles);
  op.strategy = static_cast<int>(strategy);
  op.options.name = std::move(name);
  uint32_t id = AddOp(std::move(op),
                      trace::Value{.kind = trace::ValueKind::kPlacementGroup});
  return GraphPlacementGroup(serial(), id, count);
}

namespace trace {

namespace {
std::mutex pure_mu;
std::set<std::string> &PureKeys() {
  static auto *keys = new std::set<std::string>();
  return *keys;
}
} // namespace

void AddPureFunction(const std::string &key) {
  std::lock_guard<std::mutex> lock(pure_mu);
  PureKeys().insert(key);
}

bool IsPureFunction(const std::string &key) {
  std::lock_guard<std::mutex> lock(pure_mu);
  return PureKeys().count(key) > 0;
}

struct GraphRegistry::Impl {
  mutable std::mutex mu;
  std::vector<std::unique_ptr<GraphEntry>> entries;
  std::vector<std::string> duplicates;
};

GraphRegistry::GraphRegistry() : impl_(std::make_unique<Impl>()) {}

GraphRegistry &GraphRegistry::Instance() {
  static GraphRegistry *registry = new GraphRegistry();
  return *registry;
}

bool GraphRegistry::Add(GraphEntry entry) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto &e : impl_->entries) {
    if (e->name == entry.name) {
      impl_->duplicates.push_back(entry.name + " (" + entry.loc.file + ":" +
                                  std::to_string(entry.loc.line) + ")");
      return false;
    }
  }
  impl_->entries.push_back(std::make_unique<GraphEntry>(std::move(entry)));
  return true;
}

std::vector<std::string> GraphRegistry::Duplicates() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->duplicates;
}

std::vector<const GraphEntry *> GraphRegistry::Entries() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<const GraphEntry *> out;
  for (const auto &e : impl_->entries)
    out.push_back(e.get());
  return out;
}

const GraphEntry *GraphRegistry::Find(const std::string &name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto &e : impl_->entries) {
    if (e->name == name)
      return e.get();
  }
  return nullptr;
}

namespace {
const Graph *g_being_traced = nullptr;
} // namespace

const Graph *GraphBeingTraced() { return g_being_traced; }

Graph TraceGraph(const GraphEntry &entry,
                 const std::map<std::string, std::string> &param_values) {
  Graph graph;
  graph.name = entry.name;
  graph.loc = entry.loc;
  if (!entry.error.empty()) {
    graph.errors.push_back({entry.loc, entry.error});
    return graph;
  }
  std::vector<std::string> values;
  for (const auto &[type, name] : entry.params) {
    auto it = param_values.find(name);
    if (it == param_values.end()) {
      graph.errors.push_back(
          {entry.loc, "graph '" + entry.name +
                          "' needs a value for its parameter '" + name + "' (" +
                          type + "): pass --param " + name + "=VALUE"});
      continue;
    }
    values.push_back(it->second);
  }
  if (!graph.errors.empty())
    return graph;
  GraphBuilder builder(&graph);
  g_being_traced = &graph;
  // (Where the graph's code was: after its last op, else at the graph.)
  auto where = [&] {
    return graph.ops.empty() ? entry.loc : graph.ops.back().loc;
  };
  auto after = [&] {
    return graph.ops.empty()
               ? std::string()
               : " (after the op at line " +
                     std::to_string(graph.ops.back().loc.line) + ")";
  };
  try {
    entry.trace(builder, values);
  } catch (const std::exception &e) {
    graph.errors.push_back({where(), "tracing graph '" + entry.name +
                                         "' threw: " + e.what() + after()});
  } catch (...) {
    graph.errors.push_back({where(), "tracing graph '" + entry.name +
                                         "' threw a non-standard exception" +
                                         after()});
  }
  g_being_traced = nullptr;
  return graph;
}

} // namespace trace
} // namespace raycc
