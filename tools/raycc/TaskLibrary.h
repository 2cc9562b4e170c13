//===- TaskLibrary.h - build and load a program's task library --*- C++ -*-===//
//
// `raycc compile prog.cc` builds the program with the host C++ compiler into
// a shared library (the task library) against raycc's headers and shared
// libraries, then loads it so its RAYCC_REMOTE and RAYCC_GRAPH registrations
// run in this process.
//
//===----------------------------------------------------------------------===//

#ifndef RAYCC_TOOLS_TASKLIBRARY_H
#define RAYCC_TOOLS_TASKLIBRARY_H

#include <string>
#include <vector>

namespace raycc::tools {

struct HostCompiler {
  /// The compiler command ($CXX, else c++), split at spaces.
  std::vector<std::string> command;
  std::vector<std::string> includeDirs, defines, libraryDirs, libraries;
  /// Extra flags, split at spaces (--cxxflags).
  std::vector<std::string> flags;
  /// Print the command before running it.
  bool verbose = false;
};

/// Where raycc's own headers and libraries are, relative to the running
/// binary: an install (<prefix>/bin, include, lib) or the build tree.
struct RayccPaths {
  std::vector<std::string> includeDirs;
  std::string libraryDir;
};
RayccPaths findRayccPaths(const char *argv0);

/// The host compiler from $CXX (else `c++`) and the pass-through options.
HostCompiler hostCompilerFromEnvironment();

/// The host compiler's arguments (the command first) that build `source`
/// into `output` (with `paths` empty: the user's part of the command alone,
/// as an artifact's provenance records it).
std::vector<std::string> buildArguments(const HostCompiler &compiler,
                                        const RayccPaths &paths,
                                        const std::string &source,
                                        const std::string &output);

/// Compiles `source` into the shared library `output`. The compiler's own
/// diagnostics go to stderr unchanged. Returns "" or why it failed.
std::string buildTaskLibrary(const HostCompiler &compiler,
                             const RayccPaths &paths, const std::string &source,
                             const std::string &output);

/// The first line of `<compiler> --version`, or "" when it cannot be run.
std::string hostCompilerVersion(const HostCompiler &compiler);

/// dlopens `path` (its registrations run); returns "" or dlerror().
std::string loadTaskLibrary(const std::string &path);

} // namespace raycc::tools

#endif // RAYCC_TOOLS_TASKLIBRARY_H
