//===- Compile.cpp - raycc compile ----------------------------------------===//
//
// Parses a program's IR, runs the -O pipeline (or --pass-pipeline), and
// writes the artifact or what --emit asks for. Programs in C++ are traced
// into IR first (the DSL); `.mlir` input skips tracing.
//
//===----------------------------------------------------------------------===//

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include "Commands.h"
#include "TaskLibrary.h"
#include "raycc/frontend/TraceToMlir.h"
#include "raycc/frontend/trace.h"
#include "raycc/ir/RayOps.h"
#include "raycc/passes/ClusterDescription.h"
#include "raycc/passes/Passes.h"
#include "raycc/passes/Plan.h"
#include "raycc/proto/artifact.pb.h"
#include "raycc/proto/exec_plan.pb.h"
#include "raycc/runtime/common/artifact_file.h"
#include "raycc_version.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>

using namespace mlir;
namespace cl = llvm::cl;

namespace raycc::tools {
namespace {

enum class Emit { Artifact, Mlir, MlirOpt, Plan, Dot };

struct CompileOptions {
  cl::OptionCategory category{"raycc compile options"};
  cl::opt<std::string> input{cl::Positional,
                             cl::desc("<program.cc | program.mlir>"),
                             cl::Required, cl::cat(category)};
  cl::opt<std::string> output{
      "o",
      cl::desc("output file ('-' for stdout; default: <input>.rcx, or "
               "stdout for --emit other than rcx)"),
      cl::value_desc("file"), cl::init(""), cl::cat(category)};
  cl::opt<unsigned> traceTimeout{
      "trace-timeout",
      cl::desc("seconds the program may take to load and trace its graphs "
               "(0: no limit); it runs in a child process, so a crash or an "
               "endless loop there is reported, not inherited"),
      cl::value_desc("seconds"), cl::init(120), cl::cat(category)};
  cl::opt<unsigned> optLevel{
      "O", cl::Prefix,
      cl::desc("optimization level: 0 (verify, infer resources), 1 (+ "
               "placement checks, priorities, dead-task elimination, CSE), 2 "
               "(+ fusion and, with --cluster, placement); default 2"),
      cl::init(2), cl::cat(category)};
  cl::opt<std::string> cluster{
      "cluster",
      cl::desc("cluster description to check and place against "
               "(docs/passes/cluster-description.md); several, comma-"
               "separated: the cheapest one that can run the program (within "
               "--deadline) is chosen, and why each other was not is said"),
      cl::value_desc("file.json[,file.json...]"), cl::init(""),
      cl::cat(category)};
  cl::opt<std::string> deadline{
      "deadline",
      cl::desc("with several --cluster descriptions: only those whose "
               "predicted makespan is at most this (e.g. 250ms, 2s, 800us)"),
      cl::value_desc("duration"), cl::init(""), cl::cat(category)};
  cl::opt<std::string> profile{
      "profile",
      cl::desc("take task durations from a measured run: the timeline "
               "`raycc run --timeline` wrote (the median of each task's "
               "runs; SetCost durations stay)"),
      cl::value_desc("run.json"), cl::init(""), cl::cat(category)};
  cl::opt<std::string> cacheDir{
      "cache-dir",
      cl::desc("keep task libraries here and reuse one built from the same "
               "source, flags, host compiler and raycc (when only --param "
               "changes, nothing is rebuilt)"),
      cl::value_desc("dir"), cl::init(""), cl::cat(category)};
  cl::opt<std::string> graph{
      "graph", cl::desc("only this graph (default: every graph)"),
      cl::value_desc("name"), cl::init(""), cl::cat(category)};
  cl::opt<Emit> emit{
      "emit", cl::desc("what to write"), cl::init(Emit::Artifact),
      cl::values(
          clEnumValN(Emit::Artifact, "rcx",
                     "the artifact: optimized IR + plans (default)"),
          clEnumValN(Emit::Mlir, "mlir", "the IR as read (traced)"),
          clEnumValN(Emit::MlirOpt, "mlir-opt", "the IR after the passes"),
          clEnumValN(Emit::Plan, "plan", "the ExecPlan of each graph, as text"),
          clEnumValN(Emit::Dot, "dot", "each graph as Graphviz DOT")),
      cl::cat(category)};
  // C++ programs: tracing and the host compiler.
  cl::list<std::string> params{
      "param",
      cl::desc("a trace-time parameter of the graphs (repeatable): the "
               "parameters after the builder in RAYCC_GRAPH"),
      cl::value_desc("name=value"), cl::cat(category)};
  cl::list<std::string> includeDirs{
      "I", cl::Prefix, cl::desc("host compiler: include directory"),
      cl::value_desc("dir"), cl::cat(category)};
  cl::list<std::string> defines{
      "D", cl::Prefix, cl::desc("host compiler: define a macro"),
      cl::value_desc("name[=value]"), cl::cat(category)};
  cl::list<std::string> libraryDirs{
      "L", cl::Prefix, cl::desc("host compiler: library directory"),
      cl::value_desc("dir"), cl::cat(category)};
  cl::list<std::string> libraries{"l", cl::Prefix,
                                  cl::desc("host compiler: link a library"),
                                  cl::value_desc("name"), cl::cat(category)};
  cl::opt<std::string> cxxflags{
      "cxxflags", cl::desc("host compiler: more flags (split at spaces)"),
      cl::value_desc("flags"), cl::init(""), cl::cat(category)};
  cl::opt<bool> verbose{"v", cl::desc("print the host compiler command"),
                        cl::init(false), cl::cat(category)};
};

int fail(const llvm::Twine &message, int code) {
  llvm::errs() << "raycc compile: " << message << "\n";
  return code;
}

/// The default output path: the input's with extension .rcx.
std::string defaultOutput(llvm::StringRef input) {
  llvm::SmallString<128> path(llvm::sys::path::filename(input));
  llvm::sys::path::replace_extension(path, "rcx");
  return path.str().str();
}

int traceLoaded(CompileOptions &options, MLIRContext &context,
                const std::string &library,
                const std::map<std::string, std::string> &params,
                llvm::raw_ostream &os);

// --- Running the user's code in a child process ---------------------------

/// Writes `text` to stderr from a signal handler (async-signal-safe).
void writeSafely(const char *text) {
  size_t n = 0;
  while (text[n] != '\0')
    ++n;
  while (n > 0) {
    ssize_t w = ::write(2, text, n);
    if (w <= 0)
      return;
    text += w;
    n -= static_cast<size_t>(w);
  }
}

/// Formats `v` into `out` (a signal handler cannot use the library).
void formatUnsigned(uint64_t v, char *out) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = 0; i < n; ++i)
    out[i] = digits[n - 1 - i];
  out[n] = '\0';
}

/// Says where the graph's code was: the graph being traced and its last op.
void sayWhere() {
  const trace::Graph *graph = trace::GraphBeingTraced();
  if (graph == nullptr) {
    writeSafely(" while its task library was being loaded (in a static "
                "initializer)\n");
    return;
  }
  writeSafely(" while tracing graph '");
  writeSafely(graph->name.c_str());
  writeSafely("'");
  const trace::SourceLocation &loc =
      graph->ops.empty() ? graph->loc : graph->ops.back().loc;
  char line[24];
  formatUnsigned(loc.line, line);
  writeSafely(graph->ops.empty() ? ", before its first op (graph at "
                                 : ", after the op at ");
  writeSafely(loc.file.c_str());
  writeSafely(":");
  writeSafely(line);
  writeSafely(graph->ops.empty() ? ")\n" : "\n");
}

extern "C" void onCrash(int signal) {
  writeSafely("raycc compile: error: the graph program crashed (");
  writeSafely(strsignal(signal));
  writeSafely(")");
  sayWhere();
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

extern "C" void onTimeout(int) {
  writeSafely("raycc compile: error: the graph program did not finish "
              "loading and tracing in time (--trace-timeout); it was still "
              "running");
  sayWhere();
  ::_exit(kExitFailure);
}

/// Runs `body` in a child process, which writes its output to a pipe;
/// returns the child's exit code with its output in `out`. A child killed
/// by a signal, or still running after --trace-timeout seconds (then
/// ended, by its pid), is kExitFailure, with the reason on stderr.
int runIsolated(CompileOptions &options,
                llvm::function_ref<int(llvm::raw_ostream &)> body,
                std::string &out) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return fail("cannot make a pipe: " + llvm::Twine(std::strerror(errno)),
                kExitIO);
  llvm::errs().flush();
  llvm::outs().flush();
  pid_t pid = ::fork();
  if (pid < 0)
    return fail("cannot fork: " + llvm::Twine(std::strerror(errno)), kExitIO);
  if (pid == 0) {
    ::close(fds[0]);
    for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
      ::signal(signal, onCrash);
    ::signal(SIGUSR1, onTimeout);
    int code;
    {
      llvm::raw_fd_ostream os(fds[1], /*shouldClose=*/true);
      code = body(os);
      os.flush();
    }
    llvm::errs().flush();
    ::_exit(code); // (no static destructors of the user's library)
  }
  ::close(fds[1]);
  const bool limited = options.traceTimeout > 0;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(options.traceTimeout);
  bool timedOut = false;
  char buffer[1 << 16];
  for (;;) {
    int waitMs = -1;
    if (limited) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      waitMs = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    pollfd fd{fds[0], POLLIN, 0};
    int ready = ::poll(&fd, 1, waitMs);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready == 0) {
      timedOut = true;
      break;
    }
    ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; // (end of output: the child is done)
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  if (timedOut) {
    // Asked first to say where it is, then ended.
    ::kill(pid, SIGUSR1);
    for (int i = 0; i < 200 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) {
      pollfd none{-1, 0, 0};
      ::poll(&none, 0, 10);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return fail("the graph program ran longer than --trace-timeout=" +
                    llvm::Twine(options.traceTimeout) +
                    " s while loading or tracing (an endless loop?)",
                kExitFailure);
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status))
    return kExitFailure; // (what and where: said by the child)
  return WIFEXITED(status) ? WEXITSTATUS(status) : kExitFailure;
}

/// "250ms", "2s", "800us", "1.5s" in µs (rounded up); nullopt when
/// malformed, under 1 µs, or beyond 2^53 µs.
std::optional<uint64_t> parseDuration(llvm::StringRef text) {
  text = text.trim();
  double scale = 0;
  if (text.consume_back("us"))
    scale = 1;
  else if (text.consume_back("ms"))
    scale = 1e3;
  else if (text.consume_back("s"))
    scale = 1e6;
  double value = 0;
  if (scale == 0 || text.trim().getAsDouble(value) || !std::isfinite(value))
    return std::nullopt;
  double us = std::ceil(value * scale);
  if (us < 1 || us > 9007199254740992.0)
    return std::nullopt;
  return static_cast<uint64_t>(us);
}

/// One cluster description considered for the program (Sky-style choice).
struct Candidate {
  std::string path, name;
  bool usable = false; // feasible, and within the deadline
  std::string why;     // why it is not usable
  uint64_t makespanUs = 0;
  int64_t uncosted = 0;
  double perHour = 0, perRun = 0;
};

std::string formatMs(uint64_t us) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::format("%.3f", us / 1000.0) << " ms";
  return out;
}

std::string formatCost(double cost) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::format("%.6g", cost);
  return out;
}

/// Compiles a copy of `module` against each description of `paths` at
/// -O`optLevel` (the selected graph, or all), and picks the one that costs
/// least per run (its price per hour times the predicted makespan) among
/// those that can run the program within `deadlineUs` (0: none); ties go to
/// the faster, then to the first listed. Says why each other was not
/// chosen. Returns the chosen path, or an error listing every reason.
llvm::Expected<std::string> chooseCluster(ModuleOp module,
                                          llvm::ArrayRef<std::string> paths,
                                          const CompileOptions &options,
                                          uint64_t deadlineUs) {
  MLIRContext *context = module.getContext();
  std::vector<Candidate> candidates;
  for (const std::string &path : paths) {
    Candidate c;
    c.path = path;
    llvm::Expected<passes::ClusterDescription> cluster =
        passes::ClusterDescription::load(path);
    if (!cluster)
      return llvm::createStringError("raycc compile: " + path + ": " +
                                     llvm::toString(cluster.takeError()) +
                                     "\n");
    c.name = cluster->name.empty() ? llvm::sys::path::stem(path).str()
                                   : cluster->name;
    c.perHour = cluster->pricePerHour();
    OwningOpRef<ModuleOp> copy(module.clone());
    PassManager pm(context);
    passes::buildCompilePipeline(pm, {options.optLevel, path, options.profile});
    std::string firstError;
    LogicalResult compiled = failure();
    {
      ScopedDiagnosticHandler quiet(context, [&](Diagnostic &d) {
        if (d.getSeverity() == DiagnosticSeverity::Error && firstError.empty())
          firstError = d.str();
        return success();
      });
      compiled = pm.run(*copy);
    }
    if (failed(compiled)) {
      c.why = "it cannot run the program: " + firstError;
      candidates.push_back(std::move(c));
      continue;
    }
    for (ray::GraphOp g : copy->getOps<ray::GraphOp>()) {
      if (!options.graph.empty() && g.getSymName() != options.graph)
        continue;
      // Graphs run one after another.
      if (IntegerAttr m = g.getPredictedMakespanUsAttr())
        c.makespanUs += static_cast<uint64_t>(m.getInt());
      if (IntegerAttr u = g.getUncostedWorkAttr())
        c.uncosted += u.getInt();
    }
    c.perRun = c.perHour * static_cast<double>(c.makespanUs) / 3.6e9;
    if (deadlineUs > 0 && c.makespanUs > deadlineUs)
      c.why = "its predicted makespan, " + formatMs(c.makespanUs) +
              ", is over the deadline of " + formatMs(deadlineUs);
    else
      c.usable = true;
    candidates.push_back(std::move(c));
  }
  const Candidate *best = nullptr;
  for (const Candidate &c : candidates)
    if (c.usable &&
        (!best || c.perRun < best->perRun ||
         (c.perRun == best->perRun && c.makespanUs < best->makespanUs)))
      best = &c;
  auto label = [](const Candidate &c) {
    return "cluster \"" + c.name + "\" (" + c.path + ")";
  };
  std::string report;
  for (const Candidate &c : candidates) {
    if (&c == best)
      continue;
    std::string why = c.why;
    if (why.empty() && c.perRun == best->perRun)
      why = "it costs as much per run (" + formatCost(c.perRun) +
            ") but is not faster (predicted " + formatMs(c.makespanUs) + ")";
    else if (why.empty())
      why = "it costs " + formatCost(c.perRun) + " per run (predicted " +
            formatMs(c.makespanUs) + " at " + formatCost(c.perHour) +
            " per hour), against " + formatCost(best->perRun);
    report += "raycc compile: not " + label(c) + ": " + why + "\n";
  }
  if (!best)
    return llvm::createStringError(
        "raycc compile: none of the " + std::to_string(candidates.size()) +
        " clusters can run the program" +
        (deadlineUs ? " within the deadline" : "") + ":\n" + report);
  llvm::errs() << "raycc compile: chose " << label(*best)
               << ": predicted makespan " << formatMs(best->makespanUs) << ", "
               << formatCost(best->perRun) << " per run at "
               << formatCost(best->perHour) << " per hour";
  if (best->uncosted > 0)
    llvm::errs() << " (" << best->uncosted
                 << " task(s) and actor call(s) have no cost and count as 1 "
                    "us)";
  llvm::errs() << "\n" << report;
  return best->path;
}

/// A C++ graph program, built, loaded and traced.
struct TracedProgram {
  OwningOpRef<ModuleOp> module;
  /// The task library's bytes and file name, for the artifact.
  std::string library, libraryName;
  /// How it was built: the source's hash, the host compiler's arguments
  /// (the output and raycc's own paths left out) and version.
  std::string sourceSha256;
  std::vector<std::string> buildCommand;
  std::string hostCompiler;
  int exitCode = kExitOk;
};

/// SHA-256 of `bytes`, in hex.
std::string sha256Hex(llvm::StringRef bytes) {
  return llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(bytes)),
                     /*LowerCase=*/true);
}

/// SHA-256 of `lines` joined by newlines, in hex: a key over several inputs.
std::string sha256OfLines(llvm::ArrayRef<std::string> lines) {
  return sha256Hex(llvm::join(lines, "\n"));
}

/// SHA-256 of the file at `path`, or "" when there is no path or it cannot
/// be read.
std::string fileSha256(llvm::StringRef path) {
  if (path.empty())
    return "";
  auto bytes = llvm::MemoryBuffer::getFile(path);
  return bytes ? sha256Hex((*bytes)->getBuffer()) : "";
}

TracedProgram traceProgram(CompileOptions &options, MLIRContext &context,
                           const char *argv0) {
  TracedProgram out;
  auto failWith = [&](const llvm::Twine &message, int code) {
    out.exitCode = fail(message, code);
    return std::move(out);
  };
  std::map<std::string, std::string> params;
  for (llvm::StringRef p : options.params) {
    auto [name, value] = p.split('=');
    if (name.empty() || !p.contains('='))
      return failWith("--param takes name=value; got '" + p + "'", kExitUsage);
    params[name.str()] = value.str();
  }
  if (!llvm::sys::fs::exists(options.input))
    return failWith("cannot read '" + options.input + "': no such file",
                    kExitIO);

  HostCompiler compiler = hostCompilerFromEnvironment();
  compiler.includeDirs = options.includeDirs;
  compiler.defines = options.defines;
  compiler.libraryDirs = options.libraryDirs;
  compiler.libraries = options.libraries;
  llvm::SmallVector<llvm::StringRef> flags;
  llvm::SplitString(options.cxxflags, flags);
  compiler.flags.assign(flags.begin(), flags.end());
  compiler.verbose = options.verbose;

  llvm::SmallString<128> dir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("raycc-compile", dir))
    return failWith("cannot create a temporary directory: " + ec.message(),
                    kExitIO);
  out.libraryName =
      ("lib" + llvm::sys::path::stem(options.input) + ".so").str();
  llvm::SmallString<128> library(dir);
  llvm::sys::path::append(library, out.libraryName);
  llvm::scope_exit cleanup([&] {
    llvm::sys::fs::remove(library);
    llvm::sys::fs::remove(dir);
  });
  RayccPaths paths = findRayccPaths(argv0);
  // What the library is built from, for the artifact's provenance and the
  // cache key: the command without the output and raycc's own paths.
  out.sourceSha256 = fileSha256(options.input);
  out.buildCommand =
      buildArguments(compiler, RayccPaths{}, options.input, "<output>");
  out.hostCompiler = hostCompilerVersion(compiler);
  // --cache-dir: a library built from the same source, flags, compiler and
  // raycc is reused (only --param changed, say).
  std::string cached;
  if (!options.cacheDir.empty()) {
    std::vector<std::string> key = {out.sourceSha256, out.hostCompiler,
                                    RAYCC_VERSION};
    llvm::append_range(key, out.buildCommand);
    llvm::SmallString<128> entry(options.cacheDir.getValue());
    llvm::sys::path::append(entry, sha256OfLines(key), out.libraryName);
    cached = entry.str().str();
  }
  if (!cached.empty() && llvm::sys::fs::exists(cached)) {
    if (options.verbose)
      llvm::errs() << "raycc compile: the task library from the cache: "
                   << cached << "\n";
    if (std::error_code ec = llvm::sys::fs::copy_file(cached, library))
      return failWith("cannot copy the cached task library " + cached + ": " +
                          ec.message(),
                      kExitIO);
  } else {
    std::string error =
        buildTaskLibrary(compiler, paths, options.input, library.str().str());
    if (!error.empty())
      return failWith(error, kExitFailure);
    if (!cached.empty()) {
      // Written beside, then renamed: a concurrent compile sees all or none.
      llvm::StringRef parent = llvm::sys::path::parent_path(cached);
      std::string partial = cached + ".partial";
      if (std::error_code ec = llvm::sys::fs::create_directories(parent))
        return failWith("--cache-dir: cannot create " + parent + ": " +
                            ec.message(),
                        kExitIO);
      if (std::error_code ec = llvm::sys::fs::copy_file(library, partial))
        return failWith("--cache-dir: cannot write " + partial + ": " +
                            ec.message(),
                        kExitIO);
      if (std::error_code ec = llvm::sys::fs::rename(partial, cached))
        return failWith("--cache-dir: cannot write " + cached + ": " +
                            ec.message(),
                        kExitIO);
    }
  }
  auto bytes = llvm::MemoryBuffer::getFile(library);
  if (!bytes)
    return failWith(
        "cannot read the task library: " + bytes.getError().message(), kExitIO);
  out.library = (*bytes)->getBuffer().str();
  // Loading the library runs the program's static initializers and tracing
  // runs its graph code: both happen in a child process, under a time
  // limit, which hands the IR back as bytecode.
  std::string bytecode;
  int code = runIsolated(
      options,
      [&](llvm::raw_ostream &os) {
        return traceLoaded(options, context, library.str().str(), params, os);
      },
      bytecode);
  if (code != kExitOk) {
    out.exitCode = code;
    return out;
  }
  out.module = parseSourceString<ModuleOp>(bytecode, &context);
  if (!out.module)
    return failWith("the IR traced from " + options.input + " does not parse",
                    kExitFailure);
  return out;
}

/// (In the child.) Loads the task library, traces the graphs and writes
/// the module to `os` as bytecode; an exit code.
int traceLoaded(CompileOptions &options, MLIRContext &context,
                const std::string &library,
                const std::map<std::string, std::string> &params,
                llvm::raw_ostream &os) {
  auto failWith = [&](const llvm::Twine &message, int code) {
    return fail(message, code);
  };
  std::string error = loadTaskLibrary(library);
  if (!error.empty())
    return failWith("cannot load the task library built from " + options.input +
                        ": " + error,
                    kExitFailure);

  trace::GraphRegistry &registry = trace::GraphRegistry::Instance();
  for (const std::string &dup : registry.Duplicates())
    return failWith("a second graph named " + dup, kExitFailure);
  std::vector<const trace::GraphEntry *> entries;
  std::set<std::string> known;
  for (const trace::GraphEntry *e : registry.Entries()) {
    if (options.graph.empty() || e->name == options.graph)
      entries.push_back(e);
    for (const auto &param : e->params)
      known.insert(param.second);
  }
  if (registry.Entries().empty())
    return failWith(options.input + " defines no graph (RAYCC_GRAPH)",
                    kExitFailure);
  if (entries.empty())
    return failWith("no graph named '" + options.graph + "' in " +
                        options.input,
                    kExitFailure);
  for (const auto &[name, value] : params)
    if (!known.count(name))
      return failWith("no graph takes a parameter named '" + name + "'",
                      kExitUsage);
  std::vector<trace::Graph> graphs;
  for (const trace::GraphEntry *e : entries)
    graphs.push_back(trace::TraceGraph(*e, params));
  OwningOpRef<ModuleOp> module = frontend::buildModule(context, graphs);
  if (!module)
    return kExitFailure;
  if (failed(writeBytecodeToFile(*module, os)))
    return failWith("cannot write the traced IR", kExitFailure);
  return kExitOk;
}

} // namespace

int runCompile(int argc, char **argv) {
  static CompileOptions options;
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  passes::registerAllRayccPasses();
  registerCanonicalizerPass();
  registerCSEPass();
  registerSymbolDCEPass();
  static PassPipelineCLParser passPipeline(
      "", "Run these passes instead of the -O pipeline (as mlir-opt)");
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "raycc version " << RAYCC_VERSION << "\n";
  });
  std::string overview =
      "raycc compile: compile a graph program into an artifact\n\n"
      "  raycc compile prog.cc -o prog.rcx --cluster=lab.json -O2\n"
      "  raycc compile prog.mlir -o prog.rcx\n\n"
      "A C++ program is built with the host compiler ($CXX, else c++) into "
      "a task library, loaded, and its RAYCC_GRAPH graphs traced; the "
      "artifact holds the library, the optimized IR and one ExecPlan per "
      "graph. Host compiler errors are shown unchanged.\n\n"
      "Exit codes: 0 success, 1 the program has errors (diagnostics "
      "printed), 2 bad command line, 3 a file cannot be read or written.\n";
  // Show our options and the MLIR ones that work as in mlir-opt; the rest of
  // LLVM's global options stay reachable through --help-hidden.
  cl::HideUnrelatedOptions(options.category);
  for (const char *name :
       {"pass-pipeline", "mlir-print-ir-after-all", "mlir-print-ir-before-all",
        "mlir-print-ir-after-failure", "mlir-timing", "mlir-print-debuginfo",
        "mlir-disable-threading"}) {
    auto &registered = cl::getRegisteredOptions();
    if (auto it = registered.find(name); it != registered.end()) {
      it->second->setHiddenFlag(cl::NotHidden);
      it->second->addCategory(options.category);
    }
  }
  std::vector<char *> args(argv, argv + argc);
  std::string programName = "raycc compile";
  args[0] = programName.data();
  if (!cl::ParseCommandLineOptions(argc, args.data(), overview, &llvm::errs()))
    return kExitUsage;
  if (options.optLevel > 2)
    return fail("-O" + llvm::Twine(options.optLevel) +
                    " is not a level; use -O0, -O1 or -O2",
                kExitUsage);
  llvm::StringRef ext = llvm::sys::path::extension(options.input);
  bool isCpp = ext == ".cc" || ext == ".cpp" || ext == ".cxx" || ext == ".C";

  DialectRegistry registry;
  registry.insert<ray::RayDialect, arith::ArithDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module;
  TracedProgram traced;
  if (isCpp) {
    traced = traceProgram(options, context, argv[0]);
    if (traced.exitCode != kExitOk)
      return traced.exitCode;
    module = std::move(traced.module);
  } else {
    std::string error;
    std::unique_ptr<llvm::MemoryBuffer> file =
        openInputFile(options.input, &error);
    if (!file)
      return fail(error, kExitIO);
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      return kExitFailure;
  }

  std::string outputPath = options.output;
  if (outputPath.empty())
    outputPath =
        options.emit == Emit::Artifact ? defaultOutput(options.input) : "-";
  if (options.emit == Emit::Artifact && outputPath == "-")
    return fail("an artifact is binary; give -o FILE", kExitUsage);
  auto writeText = [&](llvm::function_ref<void(llvm::raw_ostream &)> body) {
    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> out =
        openOutputFile(outputPath, &error);
    if (!out)
      return fail(error, kExitIO);
    body(out->os());
    out->keep();
    return static_cast<int>(kExitOk);
  };
  if (options.emit == Emit::Mlir)
    return writeText([&](llvm::raw_ostream &os) { module->print(os); });

  // Several clusters: compile against each, keep the cheapest that can run
  // the program in time, then compile for it below.
  if (llvm::StringRef(options.cluster).contains(',')) {
    if (passPipeline.hasAnyOccurrences() || options.optLevel < 2)
      return fail("choosing among several --cluster descriptions needs the "
                  "-O2 pipeline (placement predicts each one's makespan)",
                  kExitUsage);
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(options.cluster).split(parts, ',');
    std::vector<std::string> paths;
    for (llvm::StringRef part : parts) {
      if (part.trim().empty())
        return fail("--cluster: an empty file name in '" + options.cluster +
                        "'",
                    kExitUsage);
      paths.push_back(part.trim().str());
    }
    uint64_t deadlineUs = 0;
    if (!options.deadline.empty()) {
      std::optional<uint64_t> parsed = parseDuration(options.deadline);
      if (!parsed)
        return fail("--deadline=" + options.deadline +
                        ": not a duration (a number with us, ms or s, at "
                        "least 1 us: 250ms)",
                    kExitUsage);
      deadlineUs = *parsed;
    }
    llvm::Expected<std::string> chosen =
        chooseCluster(*module, paths, options, deadlineUs);
    if (!chosen) {
      llvm::errs() << llvm::toString(chosen.takeError());
      return kExitFailure;
    }
    options.cluster = *chosen;
  } else if (!options.deadline.empty()) {
    return fail("--deadline chooses among several --cluster descriptions "
                "(--cluster=a.json,b.json)",
                kExitUsage);
  }

  PassManager pm(&context);
  if (failed(applyPassManagerCLOptions(pm)))
    return kExitUsage;
  DefaultTimingManager timing;
  applyDefaultTimingManagerCLOptions(timing);
  TimingScope timingScope = timing.getRootScope();
  pm.enableTiming(timingScope);
  if (passPipeline.hasAnyOccurrences()) {
    auto onError = [&](const llvm::Twine &msg) {
      emitError(UnknownLoc::get(&context)) << msg;
      return failure();
    };
    if (failed(passPipeline.addToPipeline(pm, onError)))
      return kExitUsage;
  } else {
    passes::buildCompilePipeline(
        pm, {options.optLevel, options.cluster, options.profile});
  }
  if (failed(pm.run(*module)))
    return kExitFailure;
  // A prediction holds only for the placement just made: one an input .mlir
  // carried from an earlier compile goes when this one placed nothing.
  if (options.cluster.empty() || options.optLevel < 2 ||
      passPipeline.hasAnyOccurrences())
    for (ray::GraphOp g : module->getOps<ray::GraphOp>()) {
      g.removePredictedMakespanUsAttr();
      g.removeUncostedWorkAttr();
    }

  if (options.emit == Emit::MlirOpt)
    return writeText([&](llvm::raw_ostream &os) { module->print(os); });

  // Plans of the selected graphs, in module order.
  std::vector<proto::ExecPlan> plans;
  std::string clusterName;
  if (!options.cluster.empty())
    clusterName = llvm::sys::path::stem(options.cluster).str();
  bool found = false;
  for (ray::GraphOp g : module->getOps<ray::GraphOp>()) {
    if (!options.graph.empty() && g.getSymName() != options.graph)
      continue;
    found = true;
    FailureOr<proto::ExecPlan> plan =
        passes::lowerGraphToPlan(g, clusterName, options.optLevel);
    if (failed(plan))
      return kExitFailure;
    plans.push_back(std::move(*plan));
  }
  if (!options.graph.empty() && !found)
    return fail("no graph named '" + options.graph + "' in " + options.input,
                kExitFailure);

  switch (options.emit) {
  case Emit::Plan:
    return writeText([&](llvm::raw_ostream &os) {
      for (const proto::ExecPlan &plan : plans)
        os << "# ExecPlan for @" << plan.graph_name() << "\n"
           << passes::planToText(plan);
    });
  case Emit::Dot: {
    PassManager dot(&context);
    dot.addPass(passes::createRayPrintDot({outputPath}));
    return failed(dot.run(*module)) ? kExitIO : kExitOk;
  }
  default:
    break;
  }

  proto::Artifact artifact;
  artifact.set_format_version(kArtifactFormatVersion);
  artifact.set_raycc_version(RAYCC_VERSION);
  artifact.set_source(options.input);
  llvm::raw_string_ostream ir(*artifact.mutable_ir());
  module->print(ir);
  for (proto::ExecPlan &plan : plans)
    *artifact.add_plans() = std::move(plan);
  artifact.set_opt_level(options.optLevel);
  if (!traced.library.empty())
    artifact.set_task_library_sha256(sha256Hex(traced.library));
  artifact.set_task_library(std::move(traced.library));
  artifact.set_task_library_name(traced.libraryName);
  artifact.set_cluster_name(clusterName);
  proto::Provenance &from = *artifact.mutable_provenance();
  from.set_source_sha256(traced.sourceSha256.empty() ? fileSha256(options.input)
                                                     : traced.sourceSha256);
  for (llvm::StringRef p : options.params) {
    auto [name, value] = p.split('=');
    (*from.mutable_params())[name.str()] = value.str();
  }
  for (const std::string &arg : traced.buildCommand)
    from.add_build_command(arg);
  from.set_host_compiler(traced.hostCompiler);
  from.set_cluster_sha256(fileSha256(options.cluster));
  from.set_profile_sha256(fileSha256(options.profile));
  {
    // The compile's key: every input above, the options, raycc's version.
    std::vector<std::string> key = {
        from.source_sha256(),    from.host_compiler(),
        from.cluster_sha256(),   from.profile_sha256(),
        RAYCC_VERSION,           "-O" + std::to_string(options.optLevel),
        options.graph.getValue()};
    for (const auto &[name, value] : std::map<std::string, std::string>(
             from.params().begin(), from.params().end()))
      key.push_back(name + "=" + value);
    llvm::append_range(key, from.build_command());
    from.set_inputs_sha256(sha256OfLines(key));
  }
  absl::Status written = WriteArtifact(outputPath, artifact);
  if (!written.ok())
    return fail(std::string(written.message()), kExitIO);
  return kExitOk;
}

} // namespace raycc::tools
