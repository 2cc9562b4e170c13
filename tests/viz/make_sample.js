#!/usr/bin/env node
// Writes sample visualizer pages without building raycc: hand-made JSON models
// in the schema of docs/visualizer.md, laid out with Graphviz the way
// tools/raycc/viz/DotLayout.cpp does it, put into the viewer's template.
//
//   node tests/viz/make_sample.js OUT_DIR
//
// writes OUT_DIR/small.html (a parameter-server graph with two placement
// groups, a fused task, a hostile task name and a run) and OUT_DIR/large.html
// (10,000 tasks with a run), and prints their sizes and how long dot took.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const vizDir = path.join(__dirname, '..', '..', 'tools', 'raycc', 'viz');
const outDir = process.argv[2] || '.';

// ---- layout: a JavaScript copy of DotLayout.cpp, for these fixtures only ----

function nodeSize(n) {
  if (['put', 'get', 'wait', 'join'].includes(n.kind)) return [44, 24];
  const chars = n.name.length + (n.fused && n.fused.length > 1 ? 4 : 0);
  return [Math.min(180, Math.max(64, 24 + 6.5 * chars)), n.kind === 'actor_create' ? 40 : 32];
}

function layout(g, maxUnits = 1500) {
  const rank = g.nodes.map(() => 0);
  for (const [a, b] of g.edges) rank[b] = Math.max(rank[b], rank[a] + 1);
  const key = (n, i) => (g.nodes.length <= maxUnits ? String(i)
    : [rank[i], n.kind, n.function || '', n.group ?? -1, n.bundle ?? -1].join('|'));
  const unitIndex = new Map();
  const unitOf = g.nodes.map((n, i) => {
    const k = key(n, i);
    if (!unitIndex.has(k)) unitIndex.set(k, unitIndex.size);
    return unitIndex.get(k);
  });
  const members = [...unitIndex.keys()].map(() => []);
  unitOf.forEach((u, i) => members[u].push(i));
  const rel = g.nodes.map(nodeSize).map(([w, h]) => [0, 0, w, h]);
  const units = members.map((ids) => { // one column per rank, 32 high at most
    let x = 0, height = 0;
    const byRank = new Map();
    for (const i of ids) { if (!byRank.has(rank[i])) byRank.set(rank[i], []); byRank.get(rank[i]).push(i); }
    for (const col of [...byRank.keys()].sort((a, b) => a - b).map((r) => byRank.get(r))) {
      for (let s = 0; s < col.length; s += 32) {
        let y = 0, width = 0;
        for (const i of col.slice(s, s + 32)) { rel[i][0] = x; rel[i][1] = y; y += rel[i][3] + 8; width = Math.max(width, rel[i][2]); }
        height = Math.max(height, y - 8);
        x += width + 24;
      }
    }
    return [0, 0, x - 24, height];
  });
  const unitGroup = members.map((ids) => g.nodes[ids[0]].group ?? -1);
  const unitBundle = members.map((ids) => g.nodes[ids[0]].bundle ?? -1);
  const dot = ['digraph raycc {', 'rankdir=LR; newrank=true; nodesep=0.2; ranksep=0.5; splines=false;', 'node [shape=box, fixedsize=true, label=""];'];
  const decl = (u) => `u${u} [width=${(units[u][2] / 72).toFixed(3)}, height=${(units[u][3] / 72).toFixed(3)}];`;
  g.groups.forEach((grp, gi) => {
    const us = units.map((_, u) => u).filter((u) => unitGroup[u] === gi);
    if (!us.length) return;
    dot.push(`subgraph cluster_g${gi} { label="."; fontsize=16; margin=10;`);
    for (const b of [...new Set(us.map((u) => unitBundle[u]))]) {
      if (b >= 0) dot.push(`subgraph cluster_g${gi}_b${b} { label="."; fontsize=12; margin=6;`);
      us.filter((u) => unitBundle[u] === b).forEach((u) => dot.push(decl(u)));
      if (b >= 0) dot.push('}');
    }
    dot.push('}');
  });
  units.forEach((_, u) => { if (unitGroup[u] < 0) dot.push(decl(u)); });
  const seen = new Set();
  for (const [a, b] of g.edges) {
    const k = `u${unitOf[a]} -> u${unitOf[b]};`;
    if (unitOf[a] !== unitOf[b] && !seen.has(k)) { seen.add(k); dot.push(k); }
  }
  dot.push('}');
  const t = Date.now();
  const out = JSON.parse(execFileSync('dot', ['-Tjson0'], { input: dot.join('\n'), maxBuffer: 1 << 28 }).toString());
  const dotMs = Date.now() - t;
  const bb = out.bb.split(',').map(Number);
  const top = bb[3];
  const flip = (b) => [b[0], top - b[3], b[2] - b[0], b[3] - b[1]];
  for (const o of out.objects) {
    let m;
    if ((m = /^u(\d+)$/.exec(o.name))) {
      const [x, y] = o.pos.split(',').map(Number);
      const u = units[+m[1]];
      u[0] = x - u[2] / 2; u[1] = top - y - u[3] / 2;
    } else if ((m = /^cluster_g(\d+)$/.exec(o.name))) {
      g.groups[+m[1]].box = flip(o.bb.split(',').map(Number));
    } else if ((m = /^cluster_g(\d+)_b(\d+)$/.exec(o.name))) {
      g.groups[+m[1]].bundles[+m[2]].box = flip(o.bb.split(',').map(Number));
    }
  }
  const r1 = (v) => Math.round(v * 10) / 10;
  g.nodes.forEach((n, i) => {
    const u = units[unitOf[i]];
    n.box = [u[0] + rel[i][0], u[1] + rel[i][1], rel[i][2], rel[i][3]].map(r1);
    if (units.length < g.nodes.length) n.unit = unitOf[i];
  });
  g.layout = { engine: 'dot', width: bb[2], height: bb[3], aggregated: units.length < g.nodes.length };
  if (g.layout.aggregated) g.layout.units = units.map((b) => b.map(r1));
  return dotMs;
}

// ---- a run: greedy list scheduling on a few workers -------------------------

function simulateRun(g, workers, seed) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const preds = g.nodes.map(() => []);
  for (const [a, b] of g.edges) preds[b].push(a);
  const end = [], free = new Array(workers).fill(0), lanes = free.map(() => []);
  g.nodes.forEach((n, i) => {
    const ready = Math.max(0, ...preds[i].map((p) => end[p]));
    let w = 0;
    for (let k = 1; k < workers; k++) if (free[k] < free[w]) w = k;
    const start = Math.max(ready, free[w]) + 20;
    const dur = n.kind === 'put' || n.kind === 'get' ? 30 : Math.round(200 + rnd() * 2000);
    end[i] = start + dur;
    free[w] = end[i];
    const status = n.name === 'flaky_step' ? 'finished' : 'finished';
    n.run = { start_us: start, dur_us: dur, status, attempts: n.name === 'flaky_step' ? 2 : 1, worker: '1/' + w, cluster_node: n.node || 'node-a' };
    lanes[w].push([start, dur, i, n.name, status]);
  });
  if (g.nodes.length < 100) lanes[0].push([5, 40, -1, 'dynamic_helper', 'finished']); // a task not in the plan
  const span = Math.max(...end);
  // The actually critical path: back from the last to finish, through the
  // predecessor that finished last.
  const critical = [];
  let cur = end.indexOf(span);
  while (cur >= 0) {
    critical.unshift(cur);
    cur = preds[cur].length ? preds[cur].reduce((a, b) => (end[b] > end[a] ? b : a)) : -1;
  }
  g.timeline = {
    span_us: span, events: g.nodes.length, unmatched: 0, critical,
    workers: lanes.map((tasks, w) => {
      tasks.sort((a, b) => a[0] - b[0]);
      const gaps = [];
      let cursor = 0, busy = 0;
      for (const t of tasks) { if (t[0] - cursor >= Math.max(1, span / 1000)) gaps.push([cursor, t[0] - cursor]); busy += t[1]; cursor = Math.max(cursor, t[0] + t[1]); }
      if (span - cursor >= Math.max(1, span / 1000)) gaps.push([cursor, span - cursor]);
      return { key: '1/' + w, name: 'worker ' + w, tasks, busy_us: busy, gaps };
    }),
  };
}

// ---- the graphs -------------------------------------------------------------

function node(g, fields) {
  const n = Object.assign({ id: g.nodes.length, kind: 'task', scheduling: 'default', priority: 0, critical: false }, fields);
  if (n.function === undefined && ['task', 'actor_create', 'actor_call'].includes(n.kind)) n.function = n.name;
  g.nodes.push(n);
  for (const p of fields.after || []) g.edges.push([p, n.id, 0]);
  delete n.after;
  return n.id;
}

function loc(line) { return { file: 'examples/cpp/parameter_server.cc', line, column: 5 }; }

function parameterServer() {
  const g = { name: 'param_server', cluster: 'two-nodes', opt_level: 2, inputs: [{ name: 'steps', type: 'i64' }], nodes: [], edges: [], groups: [] };
  g.groups.push({ index: 0, name: 'workers', strategy: 'STRICT_SPREAD', synthesized: false, location: loc(31),
    bundles: [{ resources: { CPU: 1 }, node: 'node-a' }, { resources: { CPU: 1 }, node: 'node-b' }], members: [] });
  g.groups.push({ index: 1, name: 'ps', strategy: 'PACK', synthesized: true, location: loc(28),
    bundles: [{ resources: { CPU: 1, memory: 1 << 30 }, node: 'node-a' }], members: [] });
  const ps = node(g, { kind: 'actor_create', name: 'ParameterServer', function: 'ParameterServer::Create', node: 'node-a', group: 1, bundle: 0,
    scheduling: 'placement group 1 "ps", bundle 0', resources: { CPU: 1, memory: 1 << 30 }, location: loc(40), critical: true, priority: 9,
    actor: { class: 'ParameterServer', name: 'ps', max_restarts: 3, max_concurrency: 1 } });
  let weights = node(g, { kind: 'actor_call', name: 'ParameterServer::Get', after: [ps], node: 'node-a', group: 1, bundle: 0, location: loc(44), critical: true, priority: 8 });
  for (let round = 0; round < 3; round++) {
    const grads = [];
    for (let w = 0; w < 2; w++) {
      const data = node(g, { kind: 'put', name: 'put', location: loc(47), node: w ? 'node-b' : 'node-a' });
      const grad = node(g, { name: w === 1 && round === 1 ? '</script><script>alert(1)</script>' : 'ComputeGradient',
        function: 'ComputeGradient', signature: 'std::vector<double>(std::vector<double>, int)', after: [weights, data],
        node: w ? 'node-b' : 'node-a', group: 0, bundle: w, scheduling: 'placement group 0 "workers", bundle ' + w,
        resources: { CPU: 1 }, priority: 7 - round, critical: w === 0, location: loc(50),
        cost: { duration_us: 1500, result_bytes: 8192 }, inputs: ['steps'], results: ['!ray.opaque<"std::vector<double>">'] });
      grads.push(grad);
    }
    const apply = node(g, { kind: 'actor_call', name: 'ParameterServer::Apply', after: [ps, ...grads], node: 'node-a', group: 1, bundle: 0,
      location: loc(55), critical: true, priority: 6 - round });
    weights = node(g, { kind: 'actor_call', name: 'ParameterServer::Get', after: [apply], node: 'node-a', group: 1, bundle: 0, location: loc(56), critical: true });
  }
  const fused = node(g, { name: 'Normalize', function: 'Normalize', fused: ['Normalize', 'Clip', 'Quantize'], after: [weights],
    node: 'node-b', location: loc(60), critical: true, resources: { CPU: 0.5 } });
  const get = node(g, { kind: 'get', name: 'get', after: [fused], location: loc(61), critical: true });
  node(g, { kind: 'actor_kill', name: 'kill', function: '', after: [ps, get], location: loc(62) });
  g.nodes[get].outputs = ['weights'];
  g.edges.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  g.groups.forEach((grp) => { grp.members = g.nodes.filter((n) => n.group === grp.index).map((n) => n.id); });
  return g;
}

// 10,000 tasks: 100 rounds of 96 map tasks over 4 placement bundles, each
// round reduced by 4 tasks whose results the next round reads.
function large() {
  const g = { name: 'big_map_reduce', cluster: 'four-nodes', opt_level: 2, inputs: [], nodes: [], edges: [], groups: [] };
  const nodes = ['node-a', 'node-b', 'node-c', 'node-d'];
  g.groups.push({ index: 0, name: 'mappers', strategy: 'SPREAD', synthesized: false, location: loc(80),
    bundles: nodes.map((n) => ({ resources: { CPU: 24 }, node: n })), members: [] });
  let prev = [node(g, { name: 'LoadShards', location: loc(70), node: 'node-a', critical: true })];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  while (g.nodes.length < 10000) {
    const maps = [];
    for (let i = 0; i < 96 && g.nodes.length < 9996; i++) {
      const b = i % 4;
      maps.push(node(g, { name: 'MapChunk', signature: 'Chunk(Chunk)', after: [prev[Math.floor(rnd() * prev.length)]],
        node: nodes[b], group: 0, bundle: b, scheduling: 'placement group 0 "mappers", bundle ' + b,
        resources: { CPU: 1 }, location: loc(84), priority: 10000 - g.nodes.length, critical: i === 0 }));
    }
    prev = [];
    for (let r = 0; r < 4 && g.nodes.length < 10000; r++) {
      prev.push(node(g, { name: 'Reduce', after: maps.filter((_, k) => k % 4 === r), node: nodes[r],
        location: loc(90), resources: { CPU: 1 }, critical: r === 0 }));
    }
  }
  g.edges.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  g.groups[0].members = g.nodes.filter((n) => n.group === 0).map((n) => n.id);
  return g;
}

// ---- the page ----------------------------------------------------------------

// Like appendJsonString in Json.cpp: nothing in the model can end the
// <script> element it sits in.
function scriptSafeJson(value) {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function page(graphs, title) {
  const read = (f) => fs.readFileSync(path.join(vizDir, f), 'utf8');
  const model = { version: 1, title, graphs };
  let html = read('viewer.html');
  // In document order, never searching inside inserted text (as fillTemplate).
  let from = 0;
  for (const [marker, content] of [['/*RAYCC_VIZ_CSS*/', read('viewer.css')],
    ['/*RAYCC_VIZ_DATA*/', scriptSafeJson(model)], ['/*RAYCC_VIZ_JS*/', read('viewer.js')]]) {
    const at = html.indexOf(marker, from);
    if (at < 0) throw new Error('template lacks ' + marker);
    html = html.slice(0, at) + content + html.slice(at + marker.length);
    from = at + content.length;
  }
  return html;
}

fs.mkdirSync(outDir, { recursive: true });
const small = parameterServer();
const smallDot = layout(small);
simulateRun(small, 3, 1);
fs.writeFileSync(path.join(outDir, 'small.html'), page([small], 'parameter server'));
const big = large();
const bigDot = layout(big);
simulateRun(big, 16, 2);
fs.writeFileSync(path.join(outDir, 'large.html'), page([big], 'map-reduce, 10,000 tasks'));
for (const [name, g, ms] of [['small.html', small, smallDot], ['large.html', big, bigDot]]) {
  const size = fs.statSync(path.join(outDir, name)).size;
  console.log(`${name}: ${g.nodes.length} nodes, ${g.edges.length} edges, ${g.groups.length} groups, ` +
    `${g.layout.aggregated ? g.layout.units.length + ' dot units' : 'no aggregation'}, dot ${ms} ms, ${(size / 1024).toFixed(0)} KiB`);
}
