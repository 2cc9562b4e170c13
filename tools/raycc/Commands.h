//===- Commands.h - the subcommands of the raycc driver ---------*- C++ -*-===//

#ifndef RAYCC_TOOLS_RAYCC_COMMANDS_H
#define RAYCC_TOOLS_RAYCC_COMMANDS_H

#include <string>

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

} // namespace raycc::tools

#endif // RAYCC_TOOLS_RAYCC_COMMANDS_H
