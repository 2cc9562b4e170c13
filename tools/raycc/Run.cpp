//===- Run.cpp - raycc run
//-------------------------------------------------===//
//
// Runs a compiled graph on the embedded runtime: loads the artifact (and its
// task library), binds the inputs given as JSON on the command line,
// dispatches the whole graph and prints the outputs as JSON.
//
//===----------------------------------------------------------------------===//

#include <charconv>
#include <chrono>
#include <cmath>

#include <msgpack.hpp>

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "Commands.h"
#include "raycc/api.h"
#include "raycc/passes/ClusterDescription.h"
#include "raycc_version.h"

namespace cl = llvm::cl;

namespace raycc::tools {
namespace {

struct RunOptions {
  cl::OptionCategory category{"raycc run options"};
  cl::opt<std::string> input{cl::Positional, cl::desc("<program.rcx>"),
                             cl::Required, cl::cat(category)};
  cl::opt<std::string> graph{
      "graph", cl::desc("the graph to run (needed when there are several)"),
      cl::value_desc("name"), cl::init(""), cl::cat(category)};
  cl::list<std::string> inputs{
      "input",
      cl::desc("a graph input as JSON, or @file holding JSON (repeatable); "
               "text that is not JSON is taken as a string"),
      cl::value_desc("name=value"), cl::cat(category)};
  cl::opt<int> numCpus{"num-cpus",
                       cl::desc("worker threads (default: all CPUs)"),
                       cl::init(0), cl::cat(category)};
  cl::opt<unsigned> maxElements{
      "max-elements",
      cl::desc("print at most this many elements of each array or map "
               "(0: all, which is always valid JSON); default 16"),
      cl::init(16), cl::cat(category)};
  cl::opt<std::string> cluster{
      "cluster",
      cl::desc("simulate the nodes of this cluster description in the "
               "embedded runtime (docs/passes/cluster-description.md): "
               "placement groups and the compiler's placements then work "
               "as on that cluster"),
      cl::value_desc("file.json"), cl::init(""), cl::cat(category)};
  cl::opt<std::string> timeline{
      "timeline",
      cl::desc("record every task attempt and write them here in Chrome "
               "trace-event format (Perfetto, `raycc viz --timeline`)"),
      cl::value_desc("run.json"), cl::init(""), cl::cat(category)};
  cl::opt<unsigned> repeat{
      "repeat",
      cl::desc("execute the graph N times with the same inputs, its actors "
               "and placement groups made once and kept (as Ray's compiled "
               "graphs): prints the last execution's outputs, and the time "
               "per execution and per node on stderr"),
      cl::value_desc("N"), cl::init(1), cl::cat(category)};
  cl::opt<unsigned> maxInflight{
      "max-inflight",
      cl::desc("with --repeat: executions at once, execution k+1 overlapping "
               "k (default 2)"),
      cl::value_desc("K"), cl::init(2), cl::cat(category)};
  cl::opt<std::string> address{
      "address",
      cl::desc("run on this cluster (the GCS address `raycc start --head` "
               "printed, or `auto` for the one started on this machine): "
               "the graph's tasks run in raycc-worker processes on its "
               "nodes, its task library shipped to them"),
      cl::value_desc("host:port"), cl::init(""), cl::cat(category)};
};

int fail(const llvm::Twine &message, int code) {
  llvm::errs() << "raycc run: " << message << "\n";
  return code;
}

/// Nesting deeper than this is refused (the parser, packer and printer
/// recurse).
constexpr int kMaxDepth = 256;

/// The deepest nesting of arrays and objects in JSON text.
int nestingDepth(llvm::StringRef text) {
  int depth = 0, deepest = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

/// JSON -> msgpack, the encoding task arguments use.
void pack(msgpack::packer<msgpack::sbuffer> &out, const llvm::json::Value &v) {
  switch (v.kind()) {
  case llvm::json::Value::Null:
    out.pack_nil();
    break;
  case llvm::json::Value::Boolean:
    out.pack(*v.getAsBoolean());
    break;
  case llvm::json::Value::Number:
    if (auto i = v.getAsInteger())
      out.pack(*i);
    else
      out.pack(*v.getAsNumber());
    break;
  case llvm::json::Value::String:
    out.pack(v.getAsString()->str());
    break;
  case llvm::json::Value::Array: {
    const llvm::json::Array &a = *v.getAsArray();
    out.pack_array(a.size());
    for (const llvm::json::Value &e : a)
      pack(out, e);
    break;
  }
  case llvm::json::Value::Object: {
    const llvm::json::Object &o = *v.getAsObject();
    out.pack_map(o.size());
    for (const auto &[key, value] : o) {
      out.pack(key.str());
      pack(out, value);
    }
    break;
  }
  }
}

/// msgpack -> JSON text, eliding long arrays and maps when `limit` > 0.
void print(llvm::raw_ostream &os, const msgpack::object &o, unsigned limit,
           int depth = 0) {
  if (depth > kMaxDepth) {
    os << "\"<nested too deep>\"";
    return;
  }
  auto more = [&](size_t shown, size_t total) {
    if (shown < total)
      os << ", \"... " << (total - shown) << " more\"";
  };
  switch (o.type) {
  case msgpack::type::NIL:
    os << "null";
    break;
  case msgpack::type::BOOLEAN:
    os << (o.via.boolean ? "true" : "false");
    break;
  case msgpack::type::POSITIVE_INTEGER:
    os << o.via.u64;
    break;
  case msgpack::type::NEGATIVE_INTEGER:
    os << o.via.i64;
    break;
  case msgpack::type::FLOAT32:
  case msgpack::type::FLOAT64: {
    // The shortest text that reads back as the same double.
    char text[32];
    auto end = std::to_chars(text, text + sizeof text, o.via.f64).ptr;
    if (std::isfinite(o.via.f64))
      os << llvm::StringRef(text, end - text);
    else
      os << "null";
    break;
  }
  case msgpack::type::STR:
    os << llvm::json::Value(std::string(o.via.str.ptr, o.via.str.size));
    break;
  case msgpack::type::BIN:
    os << "\"<" << o.via.bin.size << " bytes>\"";
    break;
  case msgpack::type::ARRAY: {
    size_t n = o.via.array.size;
    size_t shown = limit ? std::min<size_t>(n, limit) : n;
    os << "[";
    for (size_t i = 0; i < shown; ++i) {
      if (i)
        os << ", ";
      print(os, o.via.array.ptr[i], limit, depth + 1);
    }
    more(shown, n);
    os << "]";
    break;
  }
  case msgpack::type::MAP: {
    size_t n = o.via.map.size;
    size_t shown = limit ? std::min<size_t>(n, limit) : n;
    os << "{";
    for (size_t i = 0; i < shown; ++i) {
      if (i)
        os << ", ";
      const msgpack::object &key = o.via.map.ptr[i].key;
      if (key.type == msgpack::type::STR) {
        print(os, key, limit);
      } else {
        std::string text;
        llvm::raw_string_ostream ks(text);
        print(ks, key, limit, depth + 1);
        os << llvm::json::Value(text);
      }
      os << ": ";
      print(os, o.via.map.ptr[i].val, limit, depth + 1);
    }
    if (shown < n)
      os << ", \"...\": \"" << (n - shown) << " more\"";
    os << "}";
    break;
  }
  default:
    os << "\"<extension>\"";
  }
}

} // namespace

int runRun(int argc, char **argv) {
  static RunOptions options;
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "raycc version " << RAYCC_VERSION << "\n";
  });
  cl::HideUnrelatedOptions(options.category);
  std::vector<char *> args(argv, argv + argc);
  std::string programName = "raycc run";
  args[0] = programName.data();
  const char *overview =
      "raycc run: run a compiled graph on the embedded runtime, or on a "
      "cluster (--address)\n\n"
      "  raycc run prog.rcx --graph train_step --input w=@w0.json\n"
      "  raycc run prog.rcx --address auto --input n=10\n"
      "  raycc run prog.rcx --repeat 100 --max-inflight 4\n\n"
      "Inputs are JSON (numbers, strings, arrays, objects) and reach the "
      "tasks as msgpack, as the runtime API would send them. Outputs are "
      "printed as `name: JSON`.\n\n"
      "Exit codes: 0 success, 1 the graph failed (the error names the "
      "task), 2 bad command line, 3 a file cannot be read.\n";
  if (!cl::ParseCommandLineOptions(argc, args.data(), overview, &llvm::errs()))
    return kExitUsage;
  std::string workerProgram;
  if (!options.address.empty()) {
    if (!options.cluster.empty() || options.numCpus != 0)
      return fail("--address runs on a real cluster: --cluster and --num-cpus "
                  "describe the embedded one; leave them out",
                  kExitUsage);
    workerProgram = findSibling("raycc-worker");
    if (workerProgram.empty())
      return fail("--address: cannot find raycc-worker next to raycc or on "
                  "PATH (the cluster's workers run it)",
                  kExitFailure);
  }

  // Inputs, by name.
  llvm::StringMap<std::string> given;
  for (llvm::StringRef in : options.inputs) {
    auto [name, text] = in.split('=');
    if (!in.contains('=') || name.empty())
      return fail("--input takes name=value; got '" + in + "'", kExitUsage);
    std::string source = text.str();
    if (text.starts_with("@")) {
      auto file = llvm::MemoryBuffer::getFile(text.drop_front());
      if (!file)
        return fail("--input " + name + ": cannot read '" + text.drop_front() +
                        "': " + file.getError().message(),
                    kExitIO);
      source = (*file)->getBuffer().str();
    }
    if (nestingDepth(source) > kMaxDepth)
      return fail("--input " + name + ": nested deeper than " +
                      llvm::Twine(kMaxDepth) + " levels",
                  kExitUsage);
    llvm::Expected<llvm::json::Value> json = llvm::json::parse(source);
    llvm::json::Value value =
        json ? std::move(*json) : llvm::json::Value(source);
    if (!json) {
      llvm::consumeError(json.takeError());
      if (text.starts_with("@"))
        return fail("--input " + name + ": " + text.drop_front() +
                        " does not hold JSON",
                    kExitUsage);
    }
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> packer(buffer);
    pack(packer, value);
    given[name] = std::string(buffer.data(), buffer.size());
  }

  if (options.repeat == 0)
    return fail("--repeat must be at least 1", kExitUsage);
  if (options.maxInflight == 0)
    return fail("--max-inflight must be at least 1", kExitUsage);
  if (options.maxInflight.getNumOccurrences() && options.repeat == 1)
    return fail("--max-inflight goes with --repeat N (N > 1)", kExitUsage);
  if (!llvm::sys::fs::exists(options.input))
    return fail("cannot read '" + options.input + "': no such file", kExitIO);
  raycc::Config config{.num_cpus = options.numCpus,
                       .timeline_path = options.timeline,
                       .address = options.address,
                       .worker_program = workerProgram};
  if (!options.cluster.empty()) {
    llvm::Expected<passes::ClusterDescription> cluster =
        passes::ClusterDescription::load(options.cluster);
    if (!cluster)
      return fail(llvm::toString(cluster.takeError()), kExitFailure);
    for (const passes::ClusterNode &node : cluster->nodes) {
      raycc::NodeConfig n{.name = node.name};
      for (const auto &entry : node.resources)
        n.resources[entry.getKey().str()] =
            static_cast<double>(entry.getValue()) / 10000;
      config.nodes.push_back(std::move(n));
    }
  }
  int rc = kExitOk;
  try {
    raycc::Init(config);
    raycc::Graph graph = raycc::LoadGraph(options.input, options.graph);
    std::map<std::string, raycc::GraphInput> inputs;
    std::vector<std::string> expected;
    for (const auto &[name, type] : graph.inputs()) {
      expected.push_back(name);
      auto it = given.find(name);
      if (it == given.end()) {
        raycc::Shutdown();
        return fail("graph '" + graph.name() + "' needs --input " + name +
                        "=VALUE (" + type + ")",
                    kExitUsage);
      }
      inputs.emplace(name, raycc::GraphInput::Serialized(it->second));
    }
    for (const auto &g : given)
      if (std::find(expected.begin(), expected.end(), g.getKey().str()) ==
          expected.end()) {
        raycc::Shutdown();
        return fail("graph '" + graph.name() + "' has no input named '" +
                        g.getKey() + "'",
                    kExitUsage);
      }
    raycc::GraphOutputs outputs;
    std::vector<std::string> failures;
    if (options.repeat == 1) {
      outputs = graph.Execute(inputs);
    } else {
      auto start = std::chrono::steady_clock::now();
      raycc::GraphRunResult result =
          graph.Run(inputs, static_cast<int>(options.repeat),
                    static_cast<int>(options.maxInflight));
      double ms = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
      outputs = std::move(result.last);
      failures = std::move(result.failures);
      double each = ms / options.repeat;
      llvm::errs() << llvm::format(
          "raycc run: %u executions of @%s in %.3f ms: %.3f ms each, %.2f "
          "us per node (%zu nodes, up to %u at once)\n",
          options.repeat.getValue(), graph.name().c_str(), ms, each,
          graph.size() ? 1e3 * each / graph.size() : 0.0, graph.size(),
          options.maxInflight.getValue());
    }
    for (const auto &[name, id] : outputs.ids()) {
      try {
        std::shared_ptr<const std::string> bytes =
            internal::CurrentRuntime().Get(id, -1);
        msgpack::object_handle handle =
            msgpack::unpack(bytes->data(), bytes->size());
        llvm::outs() << name << ": ";
        print(llvm::outs(), handle.get(), options.maxElements);
        llvm::outs() << "\n";
      } catch (const raycc::RayccError &e) {
        llvm::errs() << "raycc run: output '" << name << "': " << e.what()
                     << "\n";
        rc = kExitFailure;
      }
    }
    // Every node runs, not only those the outputs need: a task nothing
    // reads is there for its effect (Shutdown would not wait for it).
    // (Graph::Run has waited for all of its executions.)
    if (options.repeat == 1)
      failures = outputs.Wait();
    for (const std::string &failure : failures) {
      llvm::errs() << "raycc run: " << failure << "\n";
      rc = kExitFailure;
    }
    llvm::outs().flush();
    raycc::Shutdown();
  } catch (const std::exception &e) {
    try {
      if (raycc::IsInitialized())
        raycc::Shutdown();
    } catch (const std::exception &again) {
      llvm::errs() << "raycc run: " << again.what() << "\n";
    }
    return fail(e.what(), kExitFailure);
  }
  return rc;
}

} // namespace raycc::tools
