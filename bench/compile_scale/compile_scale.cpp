//===- compile_scale.cpp - the -O2 pipeline on generated graphs -----------===//
//
// bench/compile_scale [--max-tasks N] [--shapes fanout,chain,gang,map]
//
// Builds graphs of 1k, 10k, 100k and 1M tasks of four shapes (fan-out/fan-in,
// chains, actor gangs, a data-parallel step as one ray.map of that many
// shards and its reduction: constant IR size), runs the full -O2 pipeline with a 16-node cluster and
// lowers each to its ExecPlan. Each size runs in a child process so its peak
// memory (ru_maxrss) is its own. Prints one row per run, then the 100k/10k
// time ratio per shape (10.0 is linear).
//
// Baseline in the same run: "parse+verify" is the cost of just parsing and
// verifying the same IR text with MLIR's parser, which every MLIR tool pays,
// so the pipeline's cost can be read relative to it.
//
//===----------------------------------------------------------------------===//

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "raycc/ir/RayOps.h"
#include "raycc/passes/Passes.h"
#include "raycc/passes/Plan.h"
#include "raycc/proto/exec_plan.pb.h"

using namespace mlir;
using namespace raycc::ray;

namespace {

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

long peakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

/// A module with one graph of about `tasks` tasks of the given shape.
OwningOpRef<ModuleOp> generate(MLIRContext& ctx, const std::string& shape, int64_t tasks) {
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  Type i64 = b.getI64Type();
  Type ref = RefType::get(i64);
  auto cost = CostAttr::get(&ctx, 100, 4096);
  auto produce = RemoteFuncOp::create(b, loc, "Produce", b.getFunctionType({i64}, {i64}));
  produce.setPure(true);
  produce.setCostAttr(cost);
  auto step = RemoteFuncOp::create(b, loc, "Step", b.getFunctionType({i64}, {i64}));
  step.setCostAttr(cost);
  auto reduce = RemoteFuncOp::create(b, loc, "Reduce", b.getFunctionType({i64, i64}, {i64}));
  auto cls = ActorClassOp::create(b, loc, "Worker", b.getFunctionType({i64}, {}));
  ActorMethodOp method;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&cls.getBody().front());
    method = ActorMethodOp::create(b, loc, "Step", b.getFunctionType({i64}, {i64}));
  }
  auto graph = GraphOp::create(b, loc, "g", b.getFunctionType({i64}, {ref}));
  b.setInsertionPointToEnd(&graph.getBodyBlock());
  Value x = graph.getBodyBlock().getArgument(0);
  Value result;
  if (shape == "fanout") {
    // tasks/2 producers, then a binary reduction tree.
    std::vector<Value> level;
    // Distinct arguments, so CSE cannot merge the (pure) producers.
    for (int64_t i = 0; i < tasks / 2; ++i) {
      Value shard = arith::ConstantIntOp::create(b, loc, i, 64);
      level.push_back(TaskOp::create(b, loc, produce, ValueRange{shard}).getResult(0));
    }
    while (level.size() > 1) {
      std::vector<Value> next;
      for (size_t i = 0; i + 1 < level.size(); i += 2)
        next.push_back(TaskOp::create(b, loc, reduce, ValueRange{level[i], level[i + 1]}).getResult(0));
      if (level.size() % 2) next.push_back(level.back());
      level.swap(next);
    }
    result = level.front();
  } else if (shape == "map") {
    // One data-parallel step: `tasks` shards, then a task reducing their
    // results (one op each, whatever the shard count).
    Type all = RefType::get(CppType::get(&ctx, "std::vector<int64_t>"));
    RemoteFuncOp sum;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(graph);
      auto shard = RemoteFuncOp::create(b, loc, "Shard", b.getFunctionType({i64, i64}, {i64}));
      shard.setCostAttr(cost);
      sum = RemoteFuncOp::create(b, loc, "Sum",
                                 b.getFunctionType({cast<RefType>(all).getElementType()}, {i64}));
    }
    Value shards = MapOp::create(b, loc, all, "Shard", ValueRange{x}, tasks).getResult();
    result = TaskOp::create(b, loc, sum, ValueRange{shards}).getResult(0);
  } else if (shape == "chain") {
    // 100 independent chains (fusible), joined at the end.
    int64_t chains = 100, length = std::max<int64_t>(1, tasks / chains);
    std::vector<Value> ends;
    for (int64_t c = 0; c < chains; ++c) {
      Value v = x;
      for (int64_t i = 0; i < length; ++i) v = TaskOp::create(b, loc, step, ValueRange{v}).getResult(0);
      ends.push_back(v);
    }
    result = ends.front();
    for (size_t i = 1; i < ends.size(); ++i)
      result = TaskOp::create(b, loc, reduce, ValueRange{result, ends[i]}).getResult(0);
  } else {
    // 8 actors, each step every actor consumes its neighbour's last output.
    constexpr int kActors = 8;
    std::vector<Value> actors, last;
    for (int a = 0; a < kActors; ++a) {
      Value c = arith::ConstantIntOp::create(b, loc, a, 64);
      actors.push_back(ActorCreateOp::create(b, loc, cls, ValueRange{c}));
      last.push_back(x);
    }
    for (int64_t s = 0; s < tasks / kActors; ++s) {
      std::vector<Value> next(kActors);
      for (int a = 0; a < kActors; ++a)
        next[a] =
            ActorCallOp::create(b, loc, actors[a], method, ValueRange{last[(a + 1) % kActors]}).getResult(0);
      last.swap(next);
    }
    result = last.front();
  }
  OutputOp::create(b, loc, ValueRange{result});
  return module;
}

struct Row {
  double build = 0, pipeline = 0, lower = 0, parseVerify = 0;
  long opsBefore = 0, opsAfter = 0, rssMiB = 0;
};

Row runOne(const std::string& shape, int64_t tasks, const std::string& cluster) {
  DialectRegistry registry;
  registry.insert<RayDialect, arith::ArithDialect>();
  MLIRContext ctx(registry, MLIRContext::Threading::DISABLED);
  ctx.loadAllAvailableDialects();
  Row row;
  auto t0 = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> module = generate(ctx, shape, tasks);
  row.build = seconds(t0);
  row.opsBefore = 0;
  module->walk([&](Operation*) { ++row.opsBefore; });

  // Baseline: print, then parse and verify the same IR.
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    module->print(os);
  }
  t0 = std::chrono::steady_clock::now();
  {
    OwningOpRef<ModuleOp> parsed = parseSourceString<ModuleOp>(text, &ctx);
    if (!parsed) {
      std::fprintf(stderr, "baseline parse failed\n");
      std::exit(1);
    }
  }
  row.parseVerify = seconds(t0);
  text.clear();
  text.shrink_to_fit();

  PassManager pm(&ctx);
  raycc::passes::buildCompilePipeline(pm, {2, cluster});
  t0 = std::chrono::steady_clock::now();
  if (failed(pm.run(*module))) {
    std::fprintf(stderr, "pipeline failed\n");
    std::exit(1);
  }
  row.pipeline = seconds(t0);
  module->walk([&](Operation*) { ++row.opsAfter; });
  t0 = std::chrono::steady_clock::now();
  auto graph = *module->getOps<GraphOp>().begin();
  FailureOr<raycc::proto::ExecPlan> plan = raycc::passes::lowerGraphToPlan(graph, "bench-16", 2);
  if (failed(plan)) {
    std::fprintf(stderr, "lowering failed\n");
    std::exit(1);
  }
  row.lower = seconds(t0);
  row.rssMiB = peakRssMiB();
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t maxTasks = 1000000;
  std::vector<std::string> shapes = {"fanout", "chain", "gang", "map"};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--max-tasks") && i + 1 < argc) {
      maxTasks = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--shapes") && i + 1 < argc) {
      shapes.clear();
      std::string list = argv[++i];
      for (size_t start = 0, end; start <= list.size(); start = end + 1) {
        end = list.find(',', start);
        if (end == std::string::npos) end = list.size();
        shapes.push_back(list.substr(start, end - start));
      }
    } else {
      std::fprintf(stderr, "usage: %s [--max-tasks N] [--shapes fanout,chain,gang,map]\n", argv[0]);
      return std::strcmp(argv[i], "--help") ? 2 : 0;
    }
  }
  // A 16-node cluster description for the placement passes.
  llvm::SmallString<128> cluster;
  llvm::sys::fs::createTemporaryFile("raycc-bench-cluster", "json", cluster);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(cluster, ec);
    os << "{\"name\": \"bench-16\", \"nodes\": [";
    for (int i = 0; i < 16; ++i)
      os << (i ? ", " : "") << "{\"name\": \"node-" << i
         << "\", \"resources\": {\"CPU\": 64, \"memory\": 256000000000}}";
    os << "]}";
  }

  std::printf("%-7s %9s %9s %9s %9s %9s %9s %8s %8s\n", "shape", "tasks", "ops", "build_s", "parse+ver",
              "O2_s", "lower_s", "ops_O2", "peakMiB");
  for (const std::string& shape : shapes) {
    double t10k = 0, t100k = 0;
    for (int64_t n = 1000; n <= maxTasks; n *= 10) {
      int fds[2];
      if (pipe(fds) != 0) return 1;
      pid_t pid = fork();
      if (pid == 0) {
        close(fds[0]);
        Row row = runOne(shape, n, cluster.str().str());
        if (write(fds[1], &row, sizeof row) != sizeof row) _exit(1);
        _exit(0);
      }
      close(fds[1]);
      Row row;
      ssize_t got = read(fds[0], &row, sizeof row);
      close(fds[0]);
      int status = 0;
      waitpid(pid, &status, 0);
      if (got != sizeof row || !WIFEXITED(status) || WEXITSTATUS(status)) {
        std::printf("%-7s %9lld  failed\n", shape.c_str(), (long long)n);
        continue;
      }
      std::printf("%-7s %9lld %9ld %9.3f %9.3f %9.3f %9.3f %8ld %8ld\n", shape.c_str(), (long long)n,
                  row.opsBefore, row.build, row.parseVerify, row.pipeline, row.lower, row.opsAfter,
                  row.rssMiB);
      std::fflush(stdout);
      if (n == 10000) t10k = row.pipeline;
      if (n == 100000) t100k = row.pipeline;
    }
    if (t10k > 0 && t100k > 0)
      std::printf("%-7s O2 time 100k/10k = %.1f (10.0 is linear)\n", shape.c_str(), t100k / t10k);
  }
  llvm::sys::fs::remove(cluster);
  return 0;
}
