//===- Viz.cpp - raycc viz
//-------------------------------------------------===//
//
// Writes the visualizer page for an artifact's graphs, optionally overlaid
// with the timeline of a run. A `.mlir` or C++ program is compiled first (by
// running `raycc compile` with the options after `--`).
//
//===----------------------------------------------------------------------===//

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include "Commands.h"
#include "raycc/proto/artifact.pb.h"
#include "raycc/runtime/common/artifact_file.h"
#include "raycc_version.h"
#include "viz/VizHtml.h"

namespace cl = llvm::cl;

namespace raycc::tools {
namespace {

struct VizCommandOptions {
  cl::OptionCategory category{"raycc viz options"};
  cl::opt<std::string> input{
      cl::Positional, cl::desc("<program.rcx | program.mlir | program.cc>"),
      cl::Required, cl::cat(category)};
  cl::opt<std::string> output{"o", cl::desc("the page (default: <input>.html)"),
                              cl::value_desc("file.html"), cl::init(""),
                              cl::cat(category)};
  cl::opt<std::string> graph{
      "graph", cl::desc("only this graph (default: every graph)"),
      cl::value_desc("name"), cl::init(""), cl::cat(category)};
  cl::opt<std::string> timeline{
      "timeline",
      cl::desc("overlay a run recorded with `raycc run --timeline` (Chrome "
               "trace-event JSON)"),
      cl::value_desc("run.json"), cl::init(""), cl::cat(category)};
  cl::opt<std::string> title{"title", cl::desc("the page's title"),
                             cl::init(""), cl::cat(category)};
  cl::opt<bool> noLayout{
      "no-layout",
      cl::desc("do not run Graphviz; the page places nodes by rank itself"),
      cl::init(false), cl::cat(category)};
};

int fail(const llvm::Twine &message, int code) {
  llvm::errs() << "raycc viz: " << message << "\n";
  return code;
}

} // namespace

int runViz(int argc, char **argv) {
  static VizCommandOptions options;
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "raycc version " << RAYCC_VERSION << "\n";
  });
  cl::HideUnrelatedOptions(options.category);
  // Everything after `--` goes to `raycc compile`.
  std::vector<char *> args;
  std::vector<std::string> compileArgs;
  bool afterDashes = false;
  for (int i = 0; i < argc; ++i) {
    if (afterDashes)
      compileArgs.push_back(argv[i]);
    else if (std::string_view(argv[i]) == "--")
      afterDashes = true;
    else
      args.push_back(argv[i]);
  }
  std::string programName = "raycc viz";
  args[0] = programName.data();
  const char *overview =
      "raycc viz: draw compiled graphs as one self-contained HTML page\n\n"
      "  raycc viz prog.rcx -o graph.html\n"
      "  raycc viz prog.rcx --timeline run.json -o run.html\n"
      "  raycc viz prog.cc -o graph.html -- --param n=4 --cluster=lab.json\n\n"
      "The page needs no server or network: open it from disk. Layout is by "
      "Graphviz's `dot` (docs/visualizer.md). Options after `--` are passed "
      "to `raycc compile` for .mlir and .cc input.\n\n"
      "Exit codes: 0 success, 1 the program or timeline has errors, 2 bad "
      "command line, 3 a file cannot be read or written.\n";
  if (!cl::ParseCommandLineOptions(static_cast<int>(args.size()), args.data(),
                                   overview, &llvm::errs()))
    return kExitUsage;
  if (!llvm::sys::fs::exists(options.input))
    return fail("cannot read '" + options.input + "': no such file", kExitIO);

  // Compile a program first, with the options after `--`.
  std::string artifactPath = options.input;
  llvm::SmallString<128> dir;
  llvm::scope_exit cleanup([&] {
    if (!dir.empty()) {
      llvm::sys::fs::remove(artifactPath);
      llvm::sys::fs::remove(dir);
    }
  });
  if (llvm::sys::path::extension(options.input) != ".rcx") {
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("raycc-viz", dir))
      return fail("cannot create a temporary directory: " + ec.message(),
                  kExitIO);
    artifactPath = (dir + "/program.rcx").str();
    static int anchor;
    std::string self = llvm::sys::fs::getMainExecutable(argv[0], &anchor);
    std::vector<std::string> compile = {self, "compile", options.input};
    compile.insert(compile.end(), compileArgs.begin(), compileArgs.end());
    compile.push_back("-o");
    compile.push_back(artifactPath);
    std::vector<llvm::StringRef> refs(compile.begin(), compile.end());
    std::string error;
    int rc =
        llvm::sys::ExecuteAndWait(self, refs, std::nullopt, {}, 0, 0, &error);
    if (rc < 0)
      return fail("cannot compile " + options.input + ": " + error,
                  kExitFailure);
    if (rc != 0)
      return rc;
  } else if (!compileArgs.empty()) {
    return fail("options after `--` are for compiling .mlir or .cc input; "
                "an artifact is already compiled",
                kExitUsage);
  }

  absl::StatusOr<proto::Artifact> artifact = ReadArtifact(artifactPath);
  if (!artifact.ok())
    return fail(std::string(artifact.status().message()), kExitIO);
  std::vector<proto::ExecPlan> plans;
  std::string names;
  for (const proto::ExecPlan &plan : artifact->plans()) {
    names += (names.empty() ? "" : ", ") + plan.graph_name();
    if (options.graph.empty() || plan.graph_name() == options.graph)
      plans.push_back(plan);
  }
  if (plans.empty())
    return fail(options.graph.empty()
                    ? "'" + options.input + "' holds no graph"
                    : "no graph named '" + options.graph + "' in '" +
                          options.input + "' (graphs: " + names + ")",
                kExitFailure);

  viz::Timeline timeline;
  if (!options.timeline.empty()) {
    auto text = llvm::MemoryBuffer::getFile(options.timeline);
    if (!text)
      return fail("cannot read '" + options.timeline +
                      "': " + text.getError().message(),
                  kExitIO);
    std::string error;
    if (!viz::parseChromeTrace((*text)->getBuffer(), &timeline, &error))
      return fail(options.timeline + ": " + error, kExitFailure);
  }

  viz::VizOptions vizOptions;
  vizOptions.title = options.title;
  vizOptions.runLayout = !options.noLayout;
  std::string error;
  std::string page =
      viz::renderHtml(plans, vizOptions,
                      options.timeline.empty() ? nullptr : &timeline, &error);
  if (page.empty())
    return fail(error, kExitFailure);

  std::string outputPath = options.output;
  if (outputPath.empty()) {
    llvm::SmallString<128> path(llvm::sys::path::filename(options.input));
    llvm::sys::path::replace_extension(path, "html");
    outputPath = path.str().str();
  }
  std::error_code ec;
  llvm::ToolOutputFile out(outputPath, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail("cannot write '" + outputPath + "': " + ec.message(), kExitIO);
  out.os() << page;
  out.keep();
  return kExitOk;
}

} // namespace raycc::tools
