//===- Commands.h - the subcommands of the raycc driver ---------*- C++ -*-===//

#ifndef RAYCC_TOOLS_RAYCC_COMMANDS_H
#define RAYCC_TOOLS_RAYCC_COMMANDS_H

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace raycc::tools {

/// Exit codes, stable for scripts (documented in `raycc --help`).
enum ExitCode : int {
  kExitOk = 0,
  /// The input has errors (diagnostics were printed) or the command failed.
  kExitFailure = 1,
  /// Bad command line.
  kExitUsage = 2,
  /// A file could not be read or written.
  kExitIO = 3,
};

/// `raycc compile`; argv[0] is "compile".
int runCompile(int argc, char **argv);
/// `raycc inspect`; argv[0] is "inspect".
int runInspect(int argc, char **argv);
/// `raycc run`: runs a compiled graph on the embedded runtime.
int runRun(int argc, char **argv);
/// `raycc viz`: the visualizer page of compiled graphs.
int runViz(int argc, char **argv);
/// `raycc start`, `raycc stop`, `raycc status`: the cluster's daemons on
/// this machine; argv[0] is the command.
int runStart(int argc, char **argv);
int runStop(int argc, char **argv);
int runStatus(int argc, char **argv);

/// The program `name` next to this raycc (build tree or <prefix>/bin), else
/// on PATH; empty when neither has it.
std::string findSibling(const std::string &name);
/// The token of the cluster at `address`: --token-file, the environment, or
/// this machine's session of that cluster.
absl::StatusOr<std::string>
clusterToken(const std::string &address,
             std::map<std::string, std::string> &flags);
/// Starts `argv` detached (its own session, output to `log`); its pid.
int spawnDetached(std::vector<std::string> argv, const std::string &log);

/// `raycc submit`, `raycc job`, and the supervisor they use.
int runSubmit(int argc, char **argv);
int runJob(int argc, char **argv);
int runSupervise(int argc, char **argv);

} // namespace raycc::tools

#endif // RAYCC_TOOLS_RAYCC_COMMANDS_H
