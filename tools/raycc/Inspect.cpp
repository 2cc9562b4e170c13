//===- Inspect.cpp - raycc inspect ----------------------------------------===//
//
// Prints what an artifact holds: a summary by default, the IR with --ir, the
// plans as text with --plan (or one plan with --plan=NAME).
//
//===----------------------------------------------------------------------===//

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>
#include <string>

#include "Commands.h"
#include "raycc/passes/Plan.h"
#include "raycc/proto/artifact.pb.h"
#include "raycc/proto/exec_plan.pb.h"
#include "raycc/runtime/common/artifact_file.h"

namespace raycc::tools {
namespace {

constexpr const char *kUsage =
    "USAGE: raycc inspect <artifact.rcx> [--ir] [--plan[=GRAPH]] [--nodes]\n"
    "  (no option)    a summary of each graph\n"
    "  --nodes        one line per plan node: what runs, where, priority\n"
    "  --ir           the optimized IR\n"
    "  --plan[=NAME]  the ExecPlan of every graph (or of NAME), as text\n";

const char *kindName(proto::PlanNodeKind kind) {
  switch (kind) {
  case proto::TASK:
    return "task";
  case proto::ACTOR_CREATE:
    return "actor";
  case proto::ACTOR_CALL:
    return "actor call";
  case proto::ACTOR_KILL:
    return "actor kill";
  case proto::PUT:
    return "put";
  case proto::GET:
    return "get";
  case proto::WAIT:
    return "wait";
  case proto::JOIN:
    return "join";
  case proto::MAP:
    return "map";
  default:
    return "other";
  }
}

void printNodes(const proto::ExecPlan &plan, llvm::raw_ostream &os) {
  os << "@" << plan.graph_name() << "\n";
  os << llvm::format("  %4s  %-12s %-28s %-16s %8s  %s\n", "id", "kind",
                     "function", "node", "priority", "critical");
  for (const proto::PlanNode &n : plan.nodes()) {
    std::string function = n.function().name();
    if (n.fused_functions_size() > 0) {
      function.clear();
      for (int i = 0; i < n.fused_functions_size(); ++i)
        function += (i ? "+" : "") + n.fused_functions(i).name();
    }
    if (n.kind() == proto::MAP)
      function += " x" + std::to_string(n.shards());
    std::string where = n.placement().node_name();
    if (n.placement().bundle_index() >= 0 && !where.empty())
      where += "[" + std::to_string(n.placement().bundle_index()) + "]";
    os << llvm::format("  %4u  %-12s %-28s %-16s %8lld  %s\n", n.id(),
                       kindName(n.kind()), function.c_str(),
                       where.empty() ? "-" : where.c_str(),
                       static_cast<long long>(n.priority()),
                       n.on_critical_path() ? "yes" : "");
  }
}

void summarize(const proto::ExecPlan &plan, llvm::raw_ostream &os) {
  std::map<std::string, int> kinds;
  std::set<std::string> nodes;
  int critical = 0;
  for (const proto::PlanNode &n : plan.nodes()) {
    ++kinds[kindName(n.kind())];
    if (!n.placement().node_name().empty())
      nodes.insert(n.placement().node_name());
    critical += n.on_critical_path();
  }
  os << "  @" << plan.graph_name() << ": " << plan.nodes_size() << " nodes (";
  bool first = true;
  for (const auto &[kind, count] : kinds) {
    os << (first ? "" : ", ") << count << " " << kind;
    first = false;
  }
  os << "), " << plan.placement_groups_size() << " placement group(s), "
     << critical << " on the critical path\n    inputs:";
  for (const proto::PlanInput &in : plan.inputs())
    os << " " << in.name();
  os << "\n    outputs:";
  for (const proto::PlanOutput &out : plan.outputs())
    os << " " << out.name();
  os << "\n";
  if (!nodes.empty()) {
    os << "    placed on:";
    for (const std::string &n : nodes)
      os << " " << n;
    os << "\n";
  }
  if (plan.predicted_makespan_us() > 0) {
    os << "    predicted makespan: "
       << llvm::format("%.3f", plan.predicted_makespan_us() / 1000.0) << " ms";
    if (plan.uncosted_nodes() > 0)
      os << " (" << plan.uncosted_nodes()
         << " task(s) and actor call(s) have no cost and count as 1 us: set "
            "SetCost, or compile with --profile=run.json)";
    os << "\n";
  }
}

} // namespace

int runInspect(int argc, char **argv) {
  std::string path, plan;
  bool showIr = false, showPlan = false, showNodes = false;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      llvm::outs() << kUsage;
      return kExitOk;
    }
    if (arg == "--ir") {
      showIr = true;
    } else if (arg == "--nodes") {
      showNodes = true;
    } else if (arg == "--plan") {
      showPlan = true;
    } else if (arg.consume_front("--plan=")) {
      showPlan = true;
      plan = arg.str();
    } else if (arg.starts_with("-") || !path.empty()) {
      llvm::errs() << "raycc inspect: unexpected argument '" << arg << "'\n"
                   << kUsage;
      return kExitUsage;
    } else {
      path = arg.str();
    }
  }
  if (path.empty()) {
    llvm::errs() << kUsage;
    return kExitUsage;
  }
  absl::StatusOr<proto::Artifact> artifact = ReadArtifact(path);
  if (!artifact.ok()) {
    llvm::errs() << "raycc inspect: "
                 << std::string(artifact.status().message()) << "\n";
    return artifact.status().code() == absl::StatusCode::kNotFound
               ? kExitIO
               : kExitFailure;
  }
  llvm::raw_ostream &os = llvm::outs();
  if (showIr)
    os << artifact->ir();
  if (showPlan) {
    bool found = false;
    for (const proto::ExecPlan &p : artifact->plans()) {
      if (!plan.empty() && p.graph_name() != plan)
        continue;
      found = true;
      os << "# ExecPlan for @" << p.graph_name() << "\n"
         << passes::planToText(p);
    }
    if (!found) {
      llvm::errs() << "raycc inspect: no graph named '" << plan << "' in "
                   << path << "\n";
      return kExitFailure;
    }
  }
  if (showNodes)
    for (const proto::ExecPlan &p : artifact->plans())
      printNodes(p, os);
  if (showIr || showPlan || showNodes)
    return kExitOk;
  os << path << ": raycc artifact, format " << artifact->format_version()
     << ", written by raycc " << artifact->raycc_version() << "\n"
     << "  compiled from " << artifact->source() << " at -O"
     << artifact->opt_level();
  if (!artifact->cluster_name().empty())
    os << " for cluster \"" << artifact->cluster_name() << "\"";
  os << "\n  task library: ";
  if (artifact->task_library().empty())
    os << "none (functions must be registered by the process that runs it)";
  else
    os << artifact->task_library_name() << " ("
       << artifact->task_library().size() << " bytes)";
  if (artifact->has_provenance()) {
    const proto::Provenance &from = artifact->provenance();
    os << "\n  provenance: inputs " << from.inputs_sha256()
       << "\n    source sha256 " << from.source_sha256();
    if (!from.params().empty()) {
      os << "\n    params:";
      for (const auto &[name, value] : std::map<std::string, std::string>(
               from.params().begin(), from.params().end()))
        os << " " << name << "=" << value;
    }
    if (!from.host_compiler().empty())
      os << "\n    host compiler: " << from.host_compiler();
    if (from.build_command_size() > 0) {
      os << "\n    built with:";
      for (const std::string &arg : from.build_command())
        os << " " << arg;
    }
    if (!from.cluster_sha256().empty())
      os << "\n    cluster description sha256 " << from.cluster_sha256();
    if (!from.profile_sha256().empty())
      os << "\n    profile sha256 " << from.profile_sha256();
  }
  os << "\n  IR: " << llvm::StringRef(artifact->ir()).count('\n')
     << " lines\n  graphs: " << artifact->plans_size() << "\n";
  for (const proto::ExecPlan &p : artifact->plans())
    summarize(p, os);
  return kExitOk;
}

} // namespace raycc::tools
