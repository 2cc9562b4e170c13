//===- DotLayout.cpp - lay a plan out left to right with Graphviz ---------===//

#include "viz/DotLayout.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <tuple>
#include <unistd.h>

#include "viz/Json.h"
#include "viz/PlanGraph.h"

extern char **environ;

namespace raycc::tools::viz {
namespace {

constexpr const char *kMissingDot =
    "raycc viz needs Graphviz's `dot` (apt-get install graphviz)";

// Inside a unit, members stand in columns of at most this many.
constexpr size_t kColumnMax = 32;
constexpr double kMemberGapX = 24;
constexpr double kMemberGapY = 8;

/// The size a node is drawn at; the page draws labels to fit it.
Box nodeSize(const proto::PlanNode &node) {
  switch (node.kind()) {
  case proto::PUT:
  case proto::GET:
  case proto::WAIT:
  case proto::JOIN:
    return {0, 0, 44, 24};
  default:
    break;
  }
  size_t chars =
      node.name().empty() ? node.function().name().size() : node.name().size();
  if (node.fused_functions_size() > 1)
    chars += 4; // " +N"
  double width = std::clamp(24 + 6.5 * chars, 64.0, 180.0);
  return {0, 0, width, node.kind() == proto::ACTOR_CREATE ? 40.0 : 32.0};
}

/// One way of grouping nodes: level 0 keeps nodes apart, 1 groups a rank's
/// nodes by function, 2 groups a rank's nodes, 3 and up also merge
/// 2^(level-2) consecutive ranks. Nodes of different bundles never share.
using UnitKey = std::tuple<int, int, std::string, int, int, int>;

UnitKey unitKey(const proto::ExecPlan &plan, int id, int rank, int level) {
  const proto::PlanNode &node = plan.nodes(id);
  int group = placementGroupOf(plan, node);
  int bundle = bundleOf(plan, node);
  if (level == 0)
    return {id, 0, "", group, bundle, 0};
  if (level == 1)
    return {rank, node.kind(), node.function().name(), group, bundle, 0};
  return {rank >> (level - 2), 0, "", group, bundle, 0};
}

/// Stacks the members of one unit: one column per rank, wrapped at
/// kColumnMax; returns the unit's size.
Box stackMembers(const std::vector<int> &members, const std::vector<int> &rank,
                 std::vector<Box> &memberBoxes) {
  std::map<int, std::vector<int>> byRank;
  for (int id : members)
    byRank[rank[id]].push_back(id);
  double x = 0, height = 0;
  for (const auto &[r, ids] : byRank) {
    for (size_t start = 0; start < ids.size(); start += kColumnMax) {
      size_t end = std::min(ids.size(), start + kColumnMax);
      double width = 0, y = 0;
      for (size_t k = start; k < end; ++k) {
        Box &b = memberBoxes[ids[k]];
        b.x = x;
        b.y = y;
        y += b.height + kMemberGapY;
        width = std::max(width, b.width);
      }
      height = std::max(height, y - kMemberGapY);
      x += width + kMemberGapX;
    }
  }
  return {0, 0, x - kMemberGapX, height};
}

/// A file in $TMPDIR (or /tmp), removed when this goes out of scope.
class TempFile {
public:
  TempFile() {
    const char *dir = std::getenv("TMPDIR");
    path = std::string(dir && *dir ? dir : "/tmp") + "/raycc-viz-XXXXXX";
    int fd = mkstemp(path.data());
    if (fd < 0)
      path.clear();
    else
      close(fd);
  }
  ~TempFile() {
    if (!path.empty())
      unlink(path.c_str());
  }
  TempFile(const TempFile &) = delete;
  TempFile &operator=(const TempFile &) = delete;

  bool ok() const { return !path.empty(); }
  std::string path;
};

bool readFile(const std::string &path, std::string *text) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  *text = buf.str();
  return true;
}

/// Runs `dot -Tjson0` on `input` and returns what it prints. The input goes
/// through a temporary file and no pipes, so a large graph cannot deadlock
/// a pipe in either direction.
bool runDot(const std::string &dotPath, const std::string &input,
            std::string *output, std::string *error) {
  TempFile in, out, err;
  if (!in.ok() || !out.ok() || !err.ok()) {
    *error =
        std::string("cannot create a temporary file: ") + std::strerror(errno);
    return false;
  }
  {
    std::ofstream file(in.path, std::ios::binary);
    file << input;
    if (!file.flush()) {
      *error = "cannot write " + in.path;
      return false;
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.path.c_str(),
                                   O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err.path.c_str(),
                                   O_WRONLY | O_TRUNC, 0);
  std::string format = "-Tjson0";
  char *argv[] = {const_cast<char *>(dotPath.c_str()), format.data(),
                  in.path.data(), nullptr};
  pid_t pid = 0;
  int rc = dotPath.find('/') == std::string::npos
               ? posix_spawnp(&pid, dotPath.c_str(), &actions, nullptr, argv,
                              environ)
               : posix_spawn(&pid, dotPath.c_str(), &actions, nullptr, argv,
                             environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == ENOENT || rc == EACCES) {
    *error = kMissingDot;
    return false;
  }
  if (rc != 0) {
    *error = "cannot run " + dotPath + ": " + std::strerror(rc);
    return false;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      *error = std::string("waiting for dot: ") + std::strerror(errno);
      return false;
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    *error = kMissingDot;
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string messages;
    readFile(err.path, &messages);
    *error = "dot failed" +
             (WIFEXITED(status)
                  ? " (exit status " + std::to_string(WEXITSTATUS(status)) + ")"
                  : std::string(" (killed by a signal)")) +
             (messages.empty() ? "" : ": " + messages.substr(0, 2000));
    return false;
  }
  if (!readFile(out.path, output)) {
    *error = "cannot read the output of dot";
    return false;
  }
  return true;
}

/// Reads "a,b,c,d" (dot's bb and pos attributes).
std::vector<double> numbers(const JsonValue *v) {
  std::vector<double> out;
  if (!v || !v->isString())
    return out;
  const char *p = v->string.c_str();
  while (*p) {
    char *end = nullptr;
    double d = std::strtod(p, &end);
    if (end == p)
      break;
    out.push_back(d);
    p = *end == ',' ? end + 1 : end;
  }
  return out;
}

/// Matches "<prefix><int>" and returns the integer, or -1.
int indexAfter(const std::string &name, const std::string &prefix,
               size_t *rest = nullptr) {
  if (name.compare(0, prefix.size(), prefix) != 0)
    return -1;
  size_t pos = prefix.size(), start = pos;
  int value = 0;
  while (pos < name.size() && name[pos] >= '0' && name[pos] <= '9' &&
         value < 100000000)
    value = value * 10 + (name[pos++] - '0');
  if (pos == start)
    return -1;
  if (rest)
    *rest = pos;
  else if (pos != name.size())
    return -1;
  return value;
}

} // namespace

LayoutUnits groupIntoUnits(const proto::ExecPlan &plan, size_t maxUnits) {
  std::vector<PlanEdge> edges = planEdges(plan);
  std::vector<int> rank = planRanks(plan, edges);
  int n = plan.nodes_size();
  int maxRank = n ? *std::max_element(rank.begin(), rank.end()) : 0;

  LayoutUnits out;
  std::map<UnitKey, int> index;
  for (int level = 0;; ++level) {
    index.clear();
    out.unitOf.assign(n, 0);
    for (int id = 0; id < n; ++id)
      out.unitOf[id] = index
                           .emplace(unitKey(plan, id, rank[id], level),
                                    static_cast<int>(index.size()))
                           .first->second;
    // Stop when it fits, or when all ranks are merged and nothing coarser
    // is left to try.
    if (index.size() <= maxUnits ||
        (level >= 2 && (maxRank >> (level - 2)) == 0))
      break;
  }
  // Units are numbered in order of their first member: dot keeps the
  // declaration order where it has no reason to change it.
  std::vector<int> renumber(index.size(), -1);
  int next = 0;
  for (int id = 0; id < n; ++id)
    if (renumber[out.unitOf[id]] < 0)
      renumber[out.unitOf[id]] = next++;
  std::vector<std::vector<int>> members(next);
  for (int id = 0; id < n; ++id) {
    out.unitOf[id] = renumber[out.unitOf[id]];
    members[out.unitOf[id]].push_back(id);
  }

  out.aggregated = next < n;
  out.memberBoxes.resize(n);
  for (int id = 0; id < n; ++id)
    out.memberBoxes[id] = nodeSize(plan.nodes(id));
  for (const std::vector<int> &m : members) {
    out.units.push_back(stackMembers(m, rank, out.memberBoxes));
    out.unitGroup.push_back(placementGroupOf(plan, plan.nodes(m.front())));
    out.unitBundle.push_back(bundleOf(plan, plan.nodes(m.front())));
  }
  return out;
}

std::string unitsToDot(const proto::ExecPlan &plan, const LayoutUnits &units) {
  std::ostringstream dot;
  dot << "digraph raycc {\n"
         "  rankdir=LR; newrank=true; nodesep=0.2; ranksep=0.5; "
         "splines=false;\n"
         "  node [shape=box, fixedsize=true, label=\"\"];\n";
  auto declare = [&](int u, const char *indent) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%su%d [width=%.3f, height=%.3f];\n",
                  indent, u, units.units[u].width / 72,
                  units.units[u].height / 72);
    dot << buf;
  };
  // Members of a group, and of its bundles, in their clusters. The label
  // only reserves room for the title the page draws.
  int numUnits = static_cast<int>(units.units.size());
  for (int g = 0; g < plan.placement_groups_size(); ++g) {
    std::map<int, std::vector<int>> byBundle;
    for (int u = 0; u < numUnits; ++u)
      if (units.unitGroup[u] == g)
        byBundle[units.unitBundle[u]].push_back(u);
    if (byBundle.empty())
      continue;
    dot << "  subgraph cluster_g" << g
        << " { label=\".\"; fontsize=16; margin=10;\n";
    for (const auto &[bundle, us] : byBundle) {
      if (bundle >= 0)
        dot << "    subgraph cluster_g" << g << "_b" << bundle
            << " { label=\".\"; fontsize=12; margin=6;\n";
      for (int u : us)
        declare(u, bundle >= 0 ? "      " : "    ");
      if (bundle >= 0)
        dot << "    }\n";
    }
    dot << "  }\n";
  }
  for (int u = 0; u < numUnits; ++u)
    if (units.unitGroup[u] < 0)
      declare(u, "  ");
  std::vector<std::pair<int, int>> edges;
  for (const PlanEdge &e : planEdges(plan)) {
    int from = units.unitOf[e.from], to = units.unitOf[e.to];
    if (from != to)
      edges.emplace_back(from, to);
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  for (const auto &[from, to] : edges)
    dot << "  u" << from << " -> u" << to << ";\n";
  dot << "}\n";
  return dot.str();
}

bool layoutPlan(const proto::ExecPlan &plan, const LayoutOptions &options,
                GraphLayout *out, std::string *error) {
  *out = GraphLayout();
  out->groups.resize(plan.placement_groups_size());
  if (plan.nodes_size() == 0)
    return true;
  LayoutUnits units = groupIntoUnits(plan, options.maxDotNodes);
  std::string json;
  if (!runDot(options.dotPath, unitsToDot(plan, units), &json, error))
    return false;
  JsonValue root;
  std::string parseError;
  if (!parseJson(json, &root, &parseError)) {
    *error = "cannot read the output of dot: " + parseError;
    return false;
  }
  std::vector<double> bb = numbers(root.find("bb"));
  if (bb.size() != 4) {
    *error = "cannot read the output of dot: no bounding box";
    return false;
  }
  // dot's y axis points up; the page's points down.
  double top = bb[3];
  auto flip = [&](const std::vector<double> &b) {
    return Box{b[0], top - b[3], b[2] - b[0], b[3] - b[1]};
  };

  out->width = bb[2];
  out->height = bb[3];
  out->aggregated = units.aggregated;
  out->units = units.units;
  std::vector<bool> placed(units.units.size(), false);
  const JsonValue *objects = root.find("objects");
  static const std::vector<JsonValue> kNone;
  for (const JsonValue &o : objects ? objects->items : kNone) {
    const JsonValue *name = o.find("name");
    if (!name || !name->isString())
      continue;
    if (int u = indexAfter(name->string, "u");
        u >= 0 && u < static_cast<int>(units.units.size())) {
      std::vector<double> pos = numbers(o.find("pos"));
      if (pos.size() != 2)
        continue;
      Box &box = out->units[u];
      box.x = pos[0] - box.width / 2;
      box.y = top - pos[1] - box.height / 2;
      placed[u] = true;
      continue;
    }
    size_t rest = 0;
    int g = indexAfter(name->string, "cluster_g", &rest);
    std::vector<double> b = numbers(o.find("bb"));
    if (g < 0 || g >= plan.placement_groups_size() || b.size() != 4)
      continue;
    if (rest == name->string.size()) {
      out->groups[g] = flip(b);
      continue;
    }
    int bundle = indexAfter(name->string.substr(rest), "_b");
    if (bundle >= 0)
      out->bundles.push_back({g, bundle, flip(b)});
  }
  if (std::find(placed.begin(), placed.end(), false) != placed.end()) {
    *error = "cannot read the output of dot: a node has no position";
    return false;
  }
  out->nodes.resize(plan.nodes_size());
  for (int id = 0; id < plan.nodes_size(); ++id) {
    const Box &unit = out->units[units.unitOf[id]];
    Box box = units.memberBoxes[id];
    box.x += unit.x;
    box.y += unit.y;
    out->nodes[id] = box;
  }
  if (out->aggregated)
    out->unitOf = units.unitOf;
  else
    out->units.clear();
  return true;
}

} // namespace raycc::tools::viz
