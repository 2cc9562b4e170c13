//===- TaskLibrary.cpp - build and load a program's task library ----------===//

#include "TaskLibrary.h"

#include <dlfcn.h>

#include <cstdlib>
#include <sstream>

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include "raycc_paths.h"

namespace raycc::tools {
namespace {

std::vector<std::string> splitWords(llvm::StringRef text) {
  llvm::SmallVector<llvm::StringRef> words;
  llvm::SplitString(text, words);
  return {words.begin(), words.end()};
}

} // namespace

RayccPaths findRayccPaths(const char *argv0) {
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(argv0, &anchor);
  llvm::SmallString<256> prefix(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  RayccPaths paths;
  llvm::SmallString<256> include(prefix), header;
  llvm::sys::path::append(include, "include");
  header = include;
  llvm::sys::path::append(header, "raycc", "graph.h");
  if (llvm::sys::fs::exists(header))
    paths.includeDirs.push_back(include.str().str()); // an install
  else
    paths.includeDirs = splitWords(RAYCC_BUILD_INCLUDE_DIRS); // the build tree
  llvm::SmallString<256> lib(prefix);
  llvm::sys::path::append(lib, "lib");
  paths.libraryDir = lib.str().str();
  return paths;
}

HostCompiler hostCompilerFromEnvironment() {
  HostCompiler compiler;
  const char *cxx = std::getenv("CXX");
  compiler.command = splitWords(cxx && *cxx ? cxx : "c++");
  return compiler;
}

std::string buildTaskLibrary(const HostCompiler &compiler,
                             const RayccPaths &paths, const std::string &source,
                             const std::string &output) {
  if (compiler.command.empty())
    return "no host C++ compiler ($CXX is empty)";
  llvm::ErrorOr<std::string> program =
      llvm::sys::findProgramByName(compiler.command.front());
  if (!program)
    return "cannot find the host C++ compiler '" + compiler.command.front() +
           "' (set $CXX)";
  std::vector<std::string> args =
      buildArguments(compiler, paths, source, output);
  if (compiler.verbose) {
    for (const std::string &a : args)
      llvm::errs() << a << " ";
    llvm::errs() << "\n";
  }
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(*program, argRefs, /*Env=*/std::nullopt,
                                     /*Redirects=*/{}, 0, 0, &error);
  if (rc < 0)
    return "cannot run the host C++ compiler: " + error;
  if (rc != 0)
    return "the host C++ compiler failed (exit code " + std::to_string(rc) +
           ") on " + source;
  return "";
}

std::vector<std::string> buildArguments(const HostCompiler &compiler,
                                        const RayccPaths &paths,
                                        const std::string &source,
                                        const std::string &output) {
  std::vector<std::string> args(compiler.command.begin(),
                                compiler.command.end());
  for (const char *flag : {"-std=c++20", "-fPIC", "-shared", "-O2"})
    args.push_back(flag);
  for (const std::string &dir : paths.includeDirs)
    args.push_back("-I" + dir);
  for (const std::string &dir : compiler.includeDirs)
    args.push_back("-I" + dir);
  for (const std::string &d : compiler.defines)
    args.push_back("-D" + d);
  args.insert(args.end(), compiler.flags.begin(), compiler.flags.end());
  args.push_back(source);
  args.push_back("-o");
  args.push_back(output);
  if (!paths.libraryDir.empty()) {
    args.push_back("-L" + paths.libraryDir);
    args.push_back("-Wl,-rpath," + paths.libraryDir);
  }
  for (const std::string &dir : compiler.libraryDirs)
    args.push_back("-L" + dir);
  args.push_back("-lraycc_graph");
  args.push_back("-lraycc_runtime");
  for (const std::string &l : compiler.libraries)
    args.push_back("-l" + l);
  return args;
}

std::string hostCompilerVersion(const HostCompiler &compiler) {
  if (compiler.command.empty())
    return "";
  llvm::ErrorOr<std::string> program =
      llvm::sys::findProgramByName(compiler.command.front());
  if (!program)
    return "";
  llvm::SmallString<128> out;
  if (llvm::sys::fs::createTemporaryFile("raycc-cxx-version", "txt", out))
    return "";
  llvm::scope_exit cleanup([&] { llvm::sys::fs::remove(out); });
  std::vector<llvm::StringRef> args(compiler.command.begin(),
                                    compiler.command.end());
  args.push_back("--version");
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, out.str(),
                                                std::nullopt};
  if (llvm::sys::ExecuteAndWait(*program, args, std::nullopt, redirects) != 0)
    return "";
  auto text = llvm::MemoryBuffer::getFile(out);
  if (!text)
    return "";
  return (*text)->getBuffer().split('\n').first.trim().str();
}

std::string loadTaskLibrary(const std::string &path) {
  // Kept loaded for the life of the process: the registries hold pointers
  // into it.
  if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
    const char *why = dlerror();
    return why ? why : "dlopen failed";
  }
  return "";
}

} // namespace raycc::tools
