// The raycc graph visualizer: draws the JSON model embedded in the page
// (docs/visualizer.md describes it) on a canvas, so that graphs of 10,000
// tasks stay interactive. User-provided text only ever reaches the DOM
// through textContent, and the canvas through fillText.
(function () {
  'use strict';

  const scriptStart = performance.now();
  const model = JSON.parse(document.getElementById('raycc-data').textContent);
  const $ = (id) => document.getElementById(id);
  const canvas = $('graph');
  const ctx = canvas.getContext('2d');
  const lanesCanvas = $('lanes');
  const lanesCtx = lanesCanvas.getContext('2d');
  const detailsEl = $('details');
  const tooltip = $('tooltip');

  const PALETTE = ['#a6cee3', '#b2df8a', '#fdbf6f', '#cab2d6', '#fb9a99',
    '#8dd3c7', '#ffffb3', '#bebada', '#80b1d3', '#fccde5', '#d9d9d9', '#bc80bd',
    '#ccebc5', '#ffed6f', '#e5c494', '#b3cde3'];
  const UNPLACED = '#eceff3';
  const PLANNED_CRITICAL = '#d62728';
  const ACTUAL_CRITICAL = '#ff7f0e';
  const MATCH = '#e6b800';
  const LABEL_SCALE = 0.6; // zoom from which node labels are drawn
  const SELECTED = '#1f5fd6';
  const KIND_LABEL = {
    task: 'task', actor_create: 'actor creation', actor_call: 'actor call',
    actor_kill: 'actor kill', put: 'put', get: 'get', wait: 'wait', join: 'join',
  };

  // ---- the current graph, prepared for drawing --------------------------

  let G = null; // prepared graph
  const view = { scale: 1, tx: 0, ty: 0 };
  const ui = {
    selected: null, // {type: 'node'|'group', id}
    hover: null,
    matches: [], matchSet: new Set(), matchIndex: -1,
    collapsed: new Set(),
    showCritical: true, showRun: true,
    details: [], // [label, value] of the selection, for selectedDetails()
  };

  function nodeLabel(n) {
    if (n.kind === 'put' || n.kind === 'get' || n.kind === 'wait' || n.kind === 'join') return n.kind;
    const base = n.name || n.function || ('#' + n.id);
    return n.fused && n.fused.length > 1 ? base + ' +' + (n.fused.length - 1) : base;
  }

  // The same sizes raycc viz gives dot (DotLayout.cpp), for models without
  // a layout.
  function defaultSize(n) {
    if (n.kind === 'put' || n.kind === 'get' || n.kind === 'wait' || n.kind === 'join') return [44, 24];
    let chars = (n.name || n.function || '').length + (n.fused && n.fused.length > 1 ? 4 : 0);
    return [Math.min(180, Math.max(64, 24 + 6.5 * chars)), n.kind === 'actor_create' ? 40 : 32];
  }

  // Without a layout engine's boxes: one column per rank.
  function rankLayout(g) {
    const rank = new Array(g.nodes.length).fill(0);
    for (const [from, to] of g.edges) rank[to] = Math.max(rank[to], rank[from] + 1);
    const columns = [];
    g.nodes.forEach((n, i) => { (columns[rank[i]] = columns[rank[i]] || []).push(i); });
    let x = 10;
    for (const col of columns) {
      if (!col) continue;
      let y = 10, width = 0;
      for (const i of col) {
        const [w, h] = defaultSize(g.nodes[i]);
        g.nodes[i].box = [x, y, w, h];
        y += h + 12;
        width = Math.max(width, w);
      }
      x += width + 60;
    }
  }

  function boundsOf(boxes, pad, top) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const b of boxes) {
      x0 = Math.min(x0, b[0]); y0 = Math.min(y0, b[1]);
      x1 = Math.max(x1, b[0] + b[2]); y1 = Math.max(y1, b[1] + b[3]);
    }
    if (x0 === Infinity) return null;
    return [x0 - pad, y0 - pad - top, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad + top];
  }

  function prepare(g) {
    const p = { g, nodes: g.nodes, edges: g.edges, groups: g.groups || [] };
    if (!p.nodes.every((n) => Array.isArray(n.box))) rankLayout(g);
    p.preds = p.nodes.map(() => []);
    p.succs = p.nodes.map(() => []);
    for (const e of p.edges) { p.succs[e[0]].push(e[1]); p.preds[e[1]].push(e[0]); }

    // Placement groups and bundles: boxes from the layout, else around members.
    p.groupOf = new Array(p.nodes.length).fill(-1);
    for (const grp of p.groups) {
      for (const m of grp.members) p.groupOf[m] = grp.index;
      grp.bundles.forEach((b, bi) => {
        if (!b.box) {
          const boxes = grp.members.filter((m) => p.nodes[m].bundle === bi).map((m) => p.nodes[m].box);
          b.box = boundsOf(boxes, 6, 14);
        }
      });
      if (!grp.box) {
        const boxes = grp.members.map((m) => p.nodes[m].box)
          .concat(grp.bundles.map((b) => b.box).filter(Boolean));
        grp.box = boundsOf(boxes, 10, 18);
      }
    }

    // Colour by assigned node (the cluster node the placement pass chose).
    const names = [...new Set(p.nodes.map((n) => n.node).filter(Boolean))].sort();
    p.colorOf = new Map(names.map((name, i) => [name, PALETTE[i % PALETTE.length]]));

    p.plannedCritical = new Set(p.nodes.filter((n) => n.critical).map((n) => n.id));
    p.run = g.timeline || null;
    p.actualCritical = new Set(p.run ? p.run.critical : []);
    p.actualCriticalEdges = new Set();
    if (p.run) {
      for (let i = 1; i < p.run.critical.length; i++) p.actualCriticalEdges.add(p.run.critical[i - 1] + ':' + p.run.critical[i]);
      p.maxDur = p.nodes.reduce((m, n) => (n.run ? Math.max(m, n.run.dur_us) : m), 1);
    }

    p.searchText = p.nodes.map((n) => [n.name, n.function, ...(n.fused || [])].filter(Boolean).join('\n').toLowerCase());

    // Extent of the drawing.
    const all = p.nodes.map((n) => n.box).concat(p.groups.map((x) => x.box).filter(Boolean));
    p.bounds = boundsOf(all, 20, 0) || [0, 0, 100, 100];

    // Aggregated layouts: units for the overview, and the edges between them.
    p.units = g.layout && g.layout.aggregated ? g.layout.units : null;
    if (p.units) {
      const seen = new Set();
      p.unitEdges = [];
      p.unitLabel = p.units.map(() => null);
      p.unitCount = p.units.map(() => 0);
      p.nodes.forEach((n) => {
        p.unitCount[n.unit]++;
        if (p.unitLabel[n.unit] === null) p.unitLabel[n.unit] = n.function || n.name || n.kind;
        else if (p.unitLabel[n.unit] !== (n.function || n.name || n.kind)) p.unitLabel[n.unit] = 'mixed';
      });
      for (const [a, b] of p.edges) {
        const ua = p.nodes[a].unit, ub = p.nodes[b].unit;
        const key = ua + ':' + ub;
        if (ua !== ub && !seen.has(key)) { seen.add(key); p.unitEdges.push([ua, ub]); }
      }
    }

    // A coarse grid for hit testing.
    p.cell = 256;
    p.grid = new Map();
    p.nodes.forEach((n, i) => {
      const b = n.box;
      for (let cx = Math.floor(b[0] / p.cell); cx <= Math.floor((b[0] + b[2]) / p.cell); cx++) {
        for (let cy = Math.floor(b[1] / p.cell); cy <= Math.floor((b[1] + b[3]) / p.cell); cy++) {
          const k = cx + ',' + cy;
          if (!p.grid.has(k)) p.grid.set(k, []);
          p.grid.get(k).push(i);
        }
      }
    });
    return p;
  }

  // ---- geometry ---------------------------------------------------------

  function toWorld(sx, sy) { return [(sx - view.tx) / view.scale, (sy - view.ty) / view.scale]; }

  // The box a node is drawn in now: its own, or its collapsed group's.
  // One array per group, so that edges inside a collapsed group compare equal.
  function collapsedBox(grp) {
    if (!grp.collapsedBox) {
      const b = grp.box;
      grp.collapsedBox = [b[0], b[1], Math.min(b[2], 240), Math.min(b[3], 52)];
    }
    return grp.collapsedBox;
  }

  function drawnBox(i) {
    const g = G.groupOf[i];
    return g >= 0 && ui.collapsed.has(g) ? collapsedBox(G.groups[g]) : G.nodes[i].box;
  }

  function isHidden(i) {
    const g = G.groupOf[i];
    return g >= 0 && ui.collapsed.has(g);
  }

  function hitTest(sx, sy) {
    const [x, y] = toWorld(sx, sy);
    for (const grp of G.groups) {
      if (!grp.box) continue;
      const b = ui.collapsed.has(grp.index) ? collapsedBox(grp) : grp.box;
      const title = ui.collapsed.has(grp.index) ? b[3] : 18;
      if (x >= b[0] && x <= b[0] + b[2] && y >= b[1] && y <= b[1] + title) return { type: 'group', id: grp.index };
    }
    const cell = G.grid.get(Math.floor(x / G.cell) + ',' + Math.floor(y / G.cell)) || [];
    const slack = 3 / view.scale; // tiny nodes stay clickable
    for (const i of cell) {
      if (isHidden(i)) continue;
      const b = G.nodes[i].box;
      if (x >= b[0] - slack && x <= b[0] + b[2] + slack && y >= b[1] - slack && y <= b[1] + b[3] + slack) return { type: 'node', id: i };
    }
    return null;
  }

  // ---- drawing ----------------------------------------------------------

  let frameRequested = false;
  let lastFrameMs = 0;
  function requestDraw() {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(() => { frameRequested = false; draw(); });
  }

  function resizeCanvas(c) {
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    return dpr;
  }

  function roundRect(c, x, y, w, h, r) {
    r = Math.min(r, w / 2, h / 2);
    c.beginPath();
    c.moveTo(x + r, y);
    c.arcTo(x + w, y, x + w, y + h, r);
    c.arcTo(x + w, y + h, x, y + h, r);
    c.arcTo(x, y + h, x, y, r);
    c.arcTo(x, y, x + w, y, r);
    c.closePath();
  }

  function nodePath(n, b) {
    const [x, y, w, h] = b;
    if (n.kind === 'wait' || n.kind === 'join') {
      ctx.beginPath();
      ctx.moveTo(x + w / 2, y); ctx.lineTo(x + w, y + h / 2);
      ctx.lineTo(x + w / 2, y + h); ctx.lineTo(x, y + h / 2);
      ctx.closePath();
    } else if (n.kind === 'put' || n.kind === 'get') {
      const s = 6;
      ctx.beginPath();
      ctx.moveTo(x + s, y); ctx.lineTo(x + w, y);
      ctx.lineTo(x + w - s, y + h); ctx.lineTo(x, y + h);
      ctx.closePath();
    } else {
      roundRect(ctx, x, y, w, h, n.kind === 'actor_create' ? 2 : 6);
    }
  }

  function fitText(text, width) {
    if (ctx.measureText(text).width <= width) return text;
    let lo = 0, hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(text.slice(0, mid) + '…').width <= width) lo = mid; else hi = mid - 1;
    }
    return lo > 0 ? text.slice(0, lo) + '…' : '';
  }

  function edgeCurve(a, b) {
    const x1 = a[0] + a[2], y1 = a[1] + a[3] / 2, x2 = b[0], y2 = b[1] + b[3] / 2;
    const dx = Math.max(24, Math.abs(x2 - x1) / 2);
    ctx.moveTo(x1, y1);
    ctx.bezierCurveTo(x1 + dx, y1, x2 - dx, y2, x2, y2);
  }

  function visible(b, vr) {
    return b[0] <= vr[2] && b[0] + b[2] >= vr[0] && b[1] <= vr[3] && b[1] + b[3] >= vr[1];
  }

  function draw() {
    const t = performance.now();
    const dpr = resizeCanvas(canvas);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!G) return;
    ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.tx, dpr * view.ty);
    const [vx0, vy0] = toWorld(0, 0);
    const [vx1, vy1] = toWorld(canvas.clientWidth, canvas.clientHeight);
    const vr = [vx0, vy0, vx1, vy1];
    const px = 1 / view.scale; // one screen pixel in world units
    const labels = view.scale >= LABEL_SCALE;
    const overview = G.units && view.scale < 0.3;
    const run = ui.showRun && G.run;

    // Placement groups and their bundles.
    ctx.lineWidth = 1.2 * px;
    for (const grp of G.groups) {
      if (!grp.box || !visible(grp.box, vr)) continue;
      const collapsed = ui.collapsed.has(grp.index);
      const b = collapsed ? collapsedBox(grp) : grp.box;
      ctx.setLineDash([6 * px, 4 * px]);
      ctx.strokeStyle = '#5d6b86';
      ctx.fillStyle = collapsed ? '#e3e8f2' : 'rgba(93,107,134,0.06)';
      roundRect(ctx, b[0], b[1], b[2], b[3], 8);
      ctx.fill();
      ctx.stroke();
      ctx.setLineDash([]);
      if (!collapsed) {
        grp.bundles.forEach((bu, bi) => {
          if (!bu.box) return;
          ctx.strokeStyle = '#9aa6bd';
          ctx.fillStyle = bu.node && G.colorOf.has(bu.node) ? hexAlpha(G.colorOf.get(bu.node), 0.18) : 'rgba(154,166,189,0.08)';
          roundRect(ctx, bu.box[0], bu.box[1], bu.box[2], bu.box[3], 5);
          ctx.fill();
          ctx.stroke();
          if (view.scale >= 0.4) {
            ctx.fillStyle = '#5d6b86';
            ctx.font = '10px system-ui, sans-serif';
            ctx.fillText(fitText('bundle ' + bi + (bu.node ? ' · ' + bu.node : ''), bu.box[2] - 8), bu.box[0] + 4, bu.box[1] + 11);
          }
        });
      }
      if (view.scale * 12 >= 5) {
        ctx.fillStyle = '#2b3548';
        ctx.font = '600 12px system-ui, sans-serif';
        const title = (collapsed ? '▸ ' : '▾ ') + (grp.name || 'group ' + grp.index) + ' · ' + grp.strategy +
          (collapsed ? ' · ' + grp.members.length + ' nodes' : '');
        ctx.fillText(fitText(title, b[2] - 10), b[0] + 6, b[1] + 14);
      }
    }

    // Edges.
    if (overview) {
      ctx.strokeStyle = 'rgba(90,100,120,0.35)';
      ctx.lineWidth = 1.5 * px;
      ctx.beginPath();
      for (const [a, b] of G.unitEdges) {
        const ba = G.units[a], bb = G.units[b];
        if (Math.max(ba[0] + ba[2], bb[0]) < vx0 || Math.min(ba[0] + ba[2], bb[0]) > vx1) continue;
        edgeCurve(ba, bb);
      }
      ctx.stroke();
    } else {
      ctx.beginPath();
      const special = [];
      for (const e of G.edges) {
        const a = drawnBox(e[0]), b = drawnBox(e[1]);
        if (a === b) continue;
        if (Math.max(a[0] + a[2], b[0]) < vx0 || Math.min(a[0] + a[2], b[0]) > vx1) continue;
        if (Math.max(a[1], b[1]) + Math.max(a[3], b[3]) < vy0 || Math.min(a[1], b[1]) > vy1) continue;
        const sel = ui.selected && ui.selected.type === 'node' && (e[0] === ui.selected.id || e[1] === ui.selected.id);
        const actual = run && G.actualCriticalEdges.has(e[0] + ':' + e[1]);
        const planned = ui.showCritical && G.plannedCritical.has(e[0]) && G.plannedCritical.has(e[1]);
        if (sel || actual || planned || e[2]) { special.push([a, b, sel, actual, planned, e[2]]); continue; }
        edgeCurve(a, b);
      }
      ctx.strokeStyle = 'rgba(90,100,120,0.55)';
      ctx.lineWidth = Math.max(1, 1.2 * px);
      ctx.stroke();
      for (const [a, b, sel, actual, planned, control] of special) {
        ctx.beginPath();
        edgeCurve(a, b);
        ctx.setLineDash(control ? [4 * px, 3 * px] : []);
        ctx.strokeStyle = sel ? SELECTED : actual ? ACTUAL_CRITICAL : planned ? PLANNED_CRITICAL : 'rgba(90,100,120,0.55)';
        ctx.lineWidth = (sel || actual || planned ? 2.5 : 1.2) * Math.max(1, px);
        ctx.stroke();
      }
      ctx.setLineDash([]);
    }

    // Units of an aggregated layout, in the overview.
    if (overview) {
      ctx.lineWidth = px;
      G.units.forEach((b, u) => {
        if (!visible(b, vr)) return;
        ctx.fillStyle = 'rgba(38,48,66,0.05)';
        ctx.strokeStyle = 'rgba(38,48,66,0.35)';
        ctx.fillRect(b[0] - 4, b[1] - 4, b[2] + 8, b[3] + 8);
        ctx.strokeRect(b[0] - 4, b[1] - 4, b[2] + 8, b[3] + 8);
      });
    }

    // Nodes.
    const tiny = view.scale * 32 < 6;
    ctx.font = '12px system-ui, sans-serif';
    for (let i = 0; i < G.nodes.length; i++) {
      const n = G.nodes[i];
      const b = n.box;
      if (isHidden(i) || !visible(b, vr)) continue;
      const fill = n.node ? G.colorOf.get(n.node) : UNPLACED;
      const faded = run && !n.run;
      const isSel = ui.selected && ui.selected.type === 'node' && ui.selected.id === i;
      const isMatch = ui.matchSet.has(i);
      const actual = run && G.actualCritical.has(i);
      const planned = ui.showCritical && G.plannedCritical.has(i);
      if (tiny) {
        ctx.fillStyle = isSel ? SELECTED : isMatch ? MATCH : actual ? ACTUAL_CRITICAL : planned ? PLANNED_CRITICAL : fill;
        ctx.fillRect(b[0], b[1], b[2], b[3]);
        continue;
      }
      ctx.globalAlpha = faded ? 0.4 : 1;
      if (n.fused && n.fused.length > 1) { // a stack: several functions in one task
        ctx.fillStyle = '#fff';
        ctx.strokeStyle = '#6b778c';
        ctx.lineWidth = px;
        roundRect(ctx, b[0] + 4, b[1] - 4, b[2], b[3], 6);
        ctx.fill();
        ctx.stroke();
      }
      nodePath(n, b);
      ctx.fillStyle = fill;
      ctx.fill();
      ctx.lineWidth = (isSel || isMatch || actual || planned ? 3 : 1) * Math.max(px, 0.5);
      ctx.strokeStyle = isSel ? SELECTED : isMatch ? MATCH : actual ? ACTUAL_CRITICAL : planned ? PLANNED_CRITICAL : '#4a5568';
      ctx.stroke();
      if (n.kind === 'actor_create') {
        ctx.lineWidth = Math.max(px, 0.5);
        ctx.strokeRect(b[0] + 3, b[1] + 3, b[2] - 6, b[3] - 6);
      } else if (n.kind === 'actor_call' || n.kind === 'actor_kill') {
        ctx.fillStyle = n.kind === 'actor_kill' ? '#b33' : '#4a5568';
        ctx.fillRect(b[0] + 1, b[1] + 3, 4, b[3] - 6);
      }
      if (n.fused && n.fused.length > 1) {
        ctx.strokeStyle = 'rgba(74,85,104,0.6)';
        ctx.lineWidth = Math.max(px, 0.5);
        ctx.beginPath();
        for (let k = 1; k < n.fused.length; k++) {
          const x = b[0] + (b[2] * k) / n.fused.length;
          ctx.moveTo(x, b[1] + b[3] - 6);
          ctx.lineTo(x, b[1] + b[3]);
        }
        ctx.stroke();
      }
      if (run && n.run) { // actual duration, relative to the longest node
        ctx.fillStyle = n.run.status === 'failed' ? '#c0392b' : '#263042';
        ctx.fillRect(b[0] + 2, b[1] + b[3] - 4, Math.max(1, (b[2] - 4) * n.run.dur_us / G.maxDur), 3);
      }
      if (labels) {
        ctx.fillStyle = '#111827';
        const small = n.kind === 'put' || n.kind === 'get' || n.kind === 'wait' || n.kind === 'join';
        ctx.font = small ? '10px system-ui, sans-serif' : '12px system-ui, sans-serif';
        const text = fitText(nodeLabel(n), b[2] - 12);
        const tw = ctx.measureText(text).width;
        ctx.fillText(text, b[0] + (b[2] - tw) / 2, b[1] + b[3] / 2 + (run && n.run && !small ? 1 : 4));
        if (run && n.run && !small && b[3] >= 30 && view.scale >= 0.9) {
          ctx.font = '9px system-ui, sans-serif';
          const d = formatUs(n.run.dur_us);
          ctx.fillStyle = '#374151';
          ctx.fillText(d, b[0] + (b[2] - ctx.measureText(d).width) / 2, b[1] + b[3] - 7);
          ctx.font = '12px system-ui, sans-serif';
        }
      }
      ctx.globalAlpha = 1;
    }

    // Unit labels over the overview.
    if (overview) {
      ctx.font = '600 ' + Math.round(13 * px) + 'px system-ui, sans-serif';
      ctx.fillStyle = '#1d2330';
      G.units.forEach((b, u) => {
        if (!visible(b, vr) || b[2] * view.scale < 50) return;
        ctx.fillText(fitText(G.unitLabel[u] + ' ×' + G.unitCount[u], b[2] + 8), b[0] - 4, b[1] - 8);
      });
    }
    lastFrameMs = performance.now() - t;
    drawLanes();
  }

  function hexAlpha(hex, a) {
    const v = parseInt(hex.slice(1), 16);
    return 'rgba(' + (v >> 16) + ',' + ((v >> 8) & 255) + ',' + (v & 255) + ',' + a + ')';
  }

  function formatUs(us) {
    if (us >= 1e6) return (us / 1e6).toFixed(2) + ' s';
    if (us >= 1e3) return (us / 1e3).toFixed(2) + ' ms';
    return Math.round(us) + ' µs';
  }

  function formatBytes(b) {
    if (b >= 1 << 30) return (b / (1 << 30)).toFixed(1) + ' GiB';
    if (b >= 1 << 20) return (b / (1 << 20)).toFixed(1) + ' MiB';
    if (b >= 1 << 10) return (b / (1 << 10)).toFixed(1) + ' KiB';
    return b + ' B';
  }

  // ---- the run: one lane per worker -------------------------------------

  const lanes = { t0: 0, t1: 1, label: 120, hover: null };

  function laneGeometry() {
    const workers = G.run.workers;
    const h = lanesCanvas.clientHeight - 18;
    return { rowH: Math.max(4, Math.min(22, h / Math.max(1, workers.length))), top: 16 };
  }

  function laneX(t) {
    const w = lanesCanvas.clientWidth - lanes.label - 8;
    return lanes.label + ((t - lanes.t0) / (lanes.t1 - lanes.t0)) * w;
  }

  function drawLanes() {
    if (!G || !G.run || $('timeline-pane').hidden) return;
    const dpr = resizeCanvas(lanesCanvas);
    const c = lanesCtx;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    const W = lanesCanvas.clientWidth, H = lanesCanvas.clientHeight;
    c.fillStyle = '#fff';
    c.fillRect(0, 0, W, H);
    const { rowH, top } = laneGeometry();
    c.font = '10px system-ui, sans-serif';
    c.fillStyle = '#5b6678';
    const span = formatUs(lanes.t1 - lanes.t0);
    c.fillText('workers · +' + formatUs(Math.max(0, lanes.t0)) + ' … +' + formatUs(lanes.t1) + ' (' + span + ' shown; wheel zooms, drag pans; red: idle)', lanes.label, 11);
    const sel = ui.selected && ui.selected.type === 'node' ? ui.selected.id : -1;
    G.run.workers.forEach((wk, r) => {
      const y = top + r * rowH;
      if (y > H) return;
      c.fillStyle = r % 2 ? '#f7f8fa' : '#fff';
      c.fillRect(0, y, W, rowH);
      c.fillStyle = '#374151';
      if (rowH >= 9) c.fillText(wk.name.length > 18 ? wk.name.slice(0, 17) + '…' : wk.name, 4, y + rowH / 2 + 3);
      c.fillStyle = 'rgba(214,39,40,0.18)';
      for (const [s, d] of wk.gaps) {
        const x0 = Math.max(lanes.label, laneX(s)), x1 = Math.min(W, laneX(s + d));
        if (x1 > x0) c.fillRect(x0, y + 1, x1 - x0, rowH - 2);
      }
      for (const task of wk.tasks) {
        const x0 = laneX(task[0]), x1 = laneX(task[0] + task[1]);
        if (x1 < lanes.label || x0 > W) continue;
        const n = task[2] >= 0 ? G.nodes[task[2]] : null;
        c.fillStyle = task[2] === sel ? SELECTED : task[4] === 'failed' ? '#c0392b' :
          n && n.node ? G.colorOf.get(n.node) : '#9aa6bd';
        c.fillRect(Math.max(lanes.label, x0), y + 2, Math.max(1, x1 - Math.max(lanes.label, x0)), rowH - 4);
        if (G.actualCritical.has(task[2])) {
          c.strokeStyle = ACTUAL_CRITICAL;
          c.lineWidth = 1.5;
          c.strokeRect(Math.max(lanes.label, x0), y + 2, Math.max(1, x1 - Math.max(lanes.label, x0)), rowH - 4);
        }
      }
    });
  }

  function laneHit(sx, sy) {
    const { rowH, top } = laneGeometry();
    const r = Math.floor((sy - top) / rowH);
    const wk = G.run.workers[r];
    if (!wk) return null;
    const px = (lanes.t1 - lanes.t0) / (lanesCanvas.clientWidth - lanes.label - 8);
    const t = lanes.t0 + (sx - lanes.label) * px;
    for (const task of wk.tasks) if (t >= task[0] - 2 * px && t <= task[0] + task[1] + 2 * px) return { worker: wk, task };
    for (const [s, d] of wk.gaps) if (t >= s && t <= s + d) return { worker: wk, gap: [s, d] };
    return null;
  }

  // ---- details, tooltip, legend -----------------------------------------

  function resourcesText(r) {
    if (!r) return '';
    return Object.keys(r).map((k) => k + ' ' + (k === 'memory' ? formatBytes(r[k]) : r[k])).join(', ');
  }

  function locationText(l) {
    if (!l || !l.file) return '';
    return l.file + (l.line ? ':' + l.line + (l.column ? ':' + l.column : '') : '');
  }

  function nodeDetails(n) {
    const rows = [];
    const add = (k, v) => { if (v !== undefined && v !== null && v !== '') rows.push([k, String(v)]); };
    add('kind', KIND_LABEL[n.kind] || n.kind);
    add('function', n.function);
    add('signature', n.signature);
    if (n.fused && n.fused.length > 1) add('fused', n.fused.join(' → '));
    add('source', locationText(n.location));
    add('resources', resourcesText(n.resources));
    add('placement', n.node ? n.node + (n.bundle !== undefined ? ', bundle ' + n.bundle : '') : 'not assigned');
    add('scheduling', n.scheduling);
    if (n.group !== undefined) {
      const grp = G.groups[n.group];
      add('placement group', (grp.name || '#' + grp.index) + ' (' + grp.strategy + ')');
    }
    add('priority', n.priority + (n.critical ? ' · on the critical path' : ''));
    if (n.cost) {
      add('cost', [n.cost.duration_us ? '~' + formatUs(n.cost.duration_us) : '',
        n.cost.result_bytes ? formatBytes(n.cost.result_bytes) + ' result' : ''].filter(Boolean).join(', '));
    }
    if (n.max_retries) add('max retries', n.max_retries);
    if (n.actor) {
      add('actor class', n.actor.class);
      add('actor name', n.actor.name);
      add('max restarts', n.actor.max_restarts);
      add('max concurrency', n.actor.max_concurrency);
      add('placement resources', resourcesText(n.actor.placement_resources));
    }
    if (n.wait) add('wait', n.wait.num_returns + ' ready' + (n.wait.timeout_ms >= 0 ? ', timeout ' + n.wait.timeout_ms + ' ms' : ''));
    if (n.inputs) add('graph inputs', n.inputs.join(', '));
    if (n.constants) add('constants', n.constants);
    if (n.results) add('results', n.results.join(', '));
    if (n.outputs) add('graph outputs', n.outputs.join(', '));
    add('after', G.preds[n.id].map((i) => nodeLabel(G.nodes[i]) + ' #' + i).slice(0, 12).join(', '));
    add('before', G.succs[n.id].map((i) => nodeLabel(G.nodes[i]) + ' #' + i).slice(0, 12).join(', '));
    if (n.run) {
      add('started', '+' + formatUs(n.run.start_us));
      add('took', formatUs(n.run.dur_us) + (n.run.attempts > 1 ? ' over ' + n.run.attempts + ' attempts' : ''));
      add('status', n.run.status);
      add('worker', n.run.worker + (n.run.cluster_node ? ' on ' + n.run.cluster_node : ''));
      if (G.actualCritical.has(n.id)) add('run', 'on the path that was actually critical');
    } else if (G.run) {
      add('run', 'no event for this node');
    }
    return rows;
  }

  function groupDetails(grp) {
    const rows = [];
    rows.push(['strategy', grp.strategy + (grp.synthesized ? ' (formed by the compiler)' : '')]);
    if (grp.location) rows.push(['source', locationText(grp.location)]);
    rows.push(['members', String(grp.members.length)]);
    grp.bundles.forEach((b, i) => rows.push(['bundle ' + i, resourcesText(b.resources) + (b.node ? ' on ' + b.node : '')]));
    rows.push(['collapsed', ui.collapsed.has(grp.index) ? 'yes (click the title to expand)' : 'no (click the title to collapse)']);
    return rows;
  }

  function showDetails() {
    detailsEl.replaceChildren();
    const heading = document.createElement('div');
    heading.className = 'heading';
    let rows;
    if (ui.selected && ui.selected.type === 'node') {
      const n = G.nodes[ui.selected.id];
      heading.textContent = nodeLabel(n) + '  #' + n.id;
      rows = nodeDetails(n);
    } else if (ui.selected && ui.selected.type === 'group') {
      const grp = G.groups[ui.selected.id];
      heading.textContent = 'placement group ' + (grp.name || '#' + grp.index);
      rows = groupDetails(grp);
    } else {
      heading.textContent = '@' + G.g.name;
      rows = summaryRows();
    }
    ui.details = [[heading.textContent, '']].concat(rows);
    const dl = document.createElement('dl');
    for (const [k, v] of rows) {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dl.append(dt, dd);
    }
    detailsEl.append(heading, dl);
    if (!ui.selected) {
      const hint = document.createElement('p');
      hint.className = 'hint';
      hint.textContent = 'Click a node or a group title for details. Drag to pan, wheel to zoom, / to search, F to fit, Esc to clear.';
      detailsEl.append(hint);
    }
  }

  function summaryRows() {
    const g = G.g;
    const kinds = {};
    for (const n of G.nodes) kinds[n.kind] = (kinds[n.kind] || 0) + 1;
    const rows = [
      ['nodes', String(G.nodes.length) + ' (' + Object.keys(kinds).map((k) => kinds[k] + ' ' + (KIND_LABEL[k] || k)).join(', ') + ')'],
      ['edges', String(G.edges.length)],
      ['placement groups', String(G.groups.length)],
      ['critical path', G.plannedCritical.size + ' nodes (planned)'],
    ];
    if (g.cluster) rows.push(['placed for', g.cluster]);
    if (g.inputs && g.inputs.length) rows.push(['inputs', g.inputs.map((i) => i.name + ': ' + i.type).join(', ')]);
    rows.push(['layout', (g.layout && g.layout.engine) + (g.layout && g.layout.aggregated ? ', aggregated (' + g.layout.units.length + ' units)' : '')]);
    if (G.run) {
      const busy = G.run.workers.reduce((s, w) => s + w.busy_us, 0);
      rows.push(['run', formatUs(G.run.span_us) + ' on ' + G.run.workers.length + ' workers, ' +
        Math.round((100 * busy) / Math.max(1, G.run.span_us * G.run.workers.length)) + '% busy']);
      rows.push(['actually critical', G.run.critical.length + ' nodes']);
      if (G.run.unmatched) rows.push(['unmatched events', String(G.run.unmatched)]);
    }
    return rows;
  }

  function showTooltip(hit, sx, sy, laneInfo) {
    let text = '';
    if (laneInfo) {
      if (laneInfo.gap) text = laneInfo.worker.name + '\nidle ' + formatUs(laneInfo.gap[1]) + ' from +' + formatUs(laneInfo.gap[0]);
      else text = laneInfo.task[3] + (laneInfo.task[2] >= 0 ? ' #' + laneInfo.task[2] : ' (not in the plan)') +
        '\n+' + formatUs(laneInfo.task[0]) + ', ' + formatUs(laneInfo.task[1]) + (laneInfo.task[4] ? ', ' + laneInfo.task[4] : '') + '\n' + laneInfo.worker.name;
    } else if (hit && hit.type === 'node') {
      const n = G.nodes[hit.id];
      text = nodeLabel(n) + '  #' + n.id + '\n' + (KIND_LABEL[n.kind] || n.kind) + (n.node ? ' on ' + n.node : '') +
        (n.location ? '\n' + locationText(n.location) : '') + (n.run ? '\ntook ' + formatUs(n.run.dur_us) : '');
    } else if (hit && hit.type === 'group') {
      const grp = G.groups[hit.id];
      text = (grp.name || 'group ' + grp.index) + ' · ' + grp.strategy + '\nclick to ' + (ui.collapsed.has(grp.index) ? 'expand' : 'collapse');
    }
    if (!text) { tooltip.hidden = true; return; }
    tooltip.textContent = text;
    tooltip.hidden = false;
    const pane = $('graph-pane').getBoundingClientRect();
    tooltip.style.left = Math.min(sx - pane.left + 14, pane.width - 300) + 'px';
    tooltip.style.top = Math.max(0, Math.min(sy - pane.top + 14, pane.height - 80)) + 'px';
  }

  function legendRow(swatch, text) {
    const row = document.createElement('div');
    row.className = 'row';
    const label = document.createElement('span');
    label.textContent = text;
    row.append(swatch, label);
    return row;
  }

  function buildLegend() {
    const legend = $('legend');
    legend.replaceChildren();
    const sw = (color) => { const s = document.createElement('span'); s.className = 'swatch'; s.style.background = color; return s; };
    const line = (color, dashed) => { const s = document.createElement('span'); s.className = 'line'; s.style.borderColor = color; if (dashed) s.style.borderTopStyle = 'dashed'; return s; };
    for (const [name, color] of G.colorOf) legend.append(legendRow(sw(color), 'runs on ' + name));
    legend.append(legendRow(sw(UNPLACED), 'no node assigned'));
    legend.append(legendRow(line(PLANNED_CRITICAL), 'planned critical path'));
    if (G.run) {
      legend.append(legendRow(line(ACTUAL_CRITICAL), 'actually critical in the run'));
      legend.append(legendRow(sw('rgba(214,39,40,0.18)'), 'worker idle (lanes below)'));
      legend.append(legendRow(line('#263042'), 'bar: actual duration'));
    }
    legend.append(legendRow(line('#5d6b86', true), 'placement group / bundle'));
    legend.append(legendRow(line(MATCH), 'search match'));
    const shapes = document.createElement('p');
    shapes.className = 'hint';
    shapes.textContent = 'Shapes: rounded box task · double box actor creation · box with a bar actor call · slanted put/get · diamond wait/join · stacked box fused tasks.';
    legend.append(shapes);
  }

  // ---- view control -----------------------------------------------------

  // readable: a small graph whose labels would be too small to read when
  // fitted is shown from its start at the smallest readable zoom instead.
  function fit(readable) {
    const b = G.bounds;
    const w = canvas.clientWidth || 800, h = canvas.clientHeight || 600;
    view.scale = Math.min(2, Math.max(0.002, Math.min(w / b[2], h / b[3]) * 0.95));
    view.tx = (w - b[2] * view.scale) / 2 - b[0] * view.scale;
    if (readable === true && view.scale < LABEL_SCALE && G.nodes.length <= 400) {
      view.scale = LABEL_SCALE;
      view.tx = 10 - b[0] * view.scale;
    }
    view.ty = (h - b[3] * view.scale) / 2 - b[1] * view.scale;
    requestDraw();
  }

  function centerOn(i, minScale) {
    const b = drawnBox(i);
    if (minScale && view.scale < minScale) view.scale = minScale;
    view.tx = canvas.clientWidth / 2 - (b[0] + b[2] / 2) * view.scale;
    view.ty = canvas.clientHeight / 2 - (b[1] + b[3] / 2) * view.scale;
  }

  function select(sel) {
    ui.selected = sel;
    showDetails();
    requestDraw();
  }

  function toggleGroup(g, collapsed) {
    const want = collapsed === undefined ? !ui.collapsed.has(g) : collapsed;
    if (want) ui.collapsed.add(g); else ui.collapsed.delete(g);
    if (ui.selected && ui.selected.type === 'group' && ui.selected.id === g) showDetails();
    requestDraw();
  }

  function search(q) {
    q = String(q || '').trim().toLowerCase();
    ui.matches = [];
    if (q) G.searchText.forEach((t, i) => { if (t.includes(q)) ui.matches.push(i); });
    ui.matchSet = new Set(ui.matches);
    ui.matchIndex = -1;
    $('search-status').textContent = q ? ui.matches.length + (ui.matches.length === 1 ? ' match' : ' matches') : '';
    requestDraw();
    return ui.matches.slice();
  }

  function nextMatch() {
    if (!ui.matches.length) return;
    ui.matchIndex = (ui.matchIndex + 1) % ui.matches.length;
    const i = ui.matches[ui.matchIndex];
    if (isHidden(i)) toggleGroup(G.groupOf[i], false);
    centerOn(i, 0.8);
    select({ type: 'node', id: i });
    $('search-status').textContent = (ui.matchIndex + 1) + ' of ' + ui.matches.length;
  }

  function showGraph(index) {
    const g = model.graphs[index];
    if (!g) return false;
    G = prepare(g);
    ui.selected = null;
    ui.collapsed.clear();
    ui.matches = []; ui.matchSet = new Set();
    $('graph-select').value = String(index);
    document.title = (model.title || g.name) + ' · raycc viz';
    $('run-toggle').hidden = !G.run;
    $('timeline-pane').hidden = !(G.run && ui.showRun);
    if (G.run) { lanes.t0 = 0; lanes.t1 = Math.max(1, G.run.span_us); }
    buildLegend();
    showDetails();
    const q = $('search').value;
    if (q) search(q);
    fit(true);
    return true;
  }

  // ---- input ------------------------------------------------------------

  let drag = null;
  canvas.addEventListener('mousedown', (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, tx: view.tx, ty: view.ty, moved: false };
    canvas.classList.add('dragging');
  });
  window.addEventListener('mousemove', (ev) => {
    if (drag) {
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      view.tx = drag.tx + dx;
      view.ty = drag.ty + dy;
      requestDraw();
      return;
    }
    if (!G || ev.target !== canvas) return;
    const r = canvas.getBoundingClientRect();
    const hit = hitTest(ev.clientX - r.left, ev.clientY - r.top);
    showTooltip(hit, ev.clientX, ev.clientY, null);
    canvas.style.cursor = hit ? 'pointer' : '';
  });
  window.addEventListener('mouseup', (ev) => {
    if (!drag) return;
    const moved = drag.moved;
    drag = null;
    canvas.classList.remove('dragging');
    if (moved || ev.target !== canvas) return;
    const r = canvas.getBoundingClientRect();
    const hit = hitTest(ev.clientX - r.left, ev.clientY - r.top);
    if (hit && hit.type === 'group') toggleGroup(hit.id);
    select(hit);
  });
  canvas.addEventListener('mouseleave', () => { tooltip.hidden = true; });
  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const r = canvas.getBoundingClientRect();
    const sx = ev.clientX - r.left, sy = ev.clientY - r.top;
    const [wx, wy] = toWorld(sx, sy);
    const factor = Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015));
    view.scale = Math.min(6, Math.max(0.002, view.scale * factor));
    view.tx = sx - wx * view.scale;
    view.ty = sy - wy * view.scale;
    requestDraw();
  }, { passive: false });

  let laneDrag = null;
  lanesCanvas.addEventListener('mousedown', (ev) => { laneDrag = { x: ev.clientX, t0: lanes.t0, t1: lanes.t1, moved: false }; });
  lanesCanvas.addEventListener('mousemove', (ev) => {
    const r = lanesCanvas.getBoundingClientRect();
    if (laneDrag) {
      const dt = ((ev.clientX - laneDrag.x) / (r.width - lanes.label - 8)) * (laneDrag.t1 - laneDrag.t0);
      if (Math.abs(ev.clientX - laneDrag.x) > 3) laneDrag.moved = true;
      lanes.t0 = laneDrag.t0 - dt;
      lanes.t1 = laneDrag.t1 - dt;
      drawLanes();
      return;
    }
    const info = laneHit(ev.clientX - r.left, ev.clientY - r.top);
    showTooltip(null, ev.clientX, Math.min(ev.clientY, $('graph-pane').getBoundingClientRect().bottom - 60), info);
  });
  lanesCanvas.addEventListener('mouseleave', () => { tooltip.hidden = true; laneDrag = null; });
  lanesCanvas.addEventListener('mouseup', (ev) => {
    const moved = laneDrag && laneDrag.moved;
    laneDrag = null;
    if (moved) return;
    const r = lanesCanvas.getBoundingClientRect();
    const info = laneHit(ev.clientX - r.left, ev.clientY - r.top);
    if (info && info.task && info.task[2] >= 0) {
      const i = info.task[2];
      if (isHidden(i)) toggleGroup(G.groupOf[i], false);
      centerOn(i, 0.8);
      select({ type: 'node', id: i });
    }
  });
  lanesCanvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const r = lanesCanvas.getBoundingClientRect();
    const f = (ev.clientX - r.left - lanes.label) / (r.width - lanes.label - 8);
    const t = lanes.t0 + f * (lanes.t1 - lanes.t0);
    const factor = Math.exp(ev.deltaY * 0.0015);
    lanes.t0 = t - (t - lanes.t0) * factor;
    lanes.t1 = t + (lanes.t1 - t) * factor;
    drawLanes();
  }, { passive: false });

  $('search').addEventListener('input', (ev) => search(ev.target.value));
  $('search').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') nextMatch(); });
  $('fit').addEventListener('click', () => fit());
  $('collapse-all').addEventListener('click', () => {
    const collapse = ui.collapsed.size < G.groups.length;
    G.groups.forEach((grp) => toggleGroup(grp.index, collapse));
    $('collapse-all').textContent = collapse ? 'Expand groups' : 'Collapse groups';
  });
  $('show-critical').addEventListener('change', (ev) => { ui.showCritical = ev.target.checked; requestDraw(); });
  $('show-run').addEventListener('change', (ev) => {
    ui.showRun = ev.target.checked;
    $('timeline-pane').hidden = !(G.run && ui.showRun);
    requestDraw();
  });
  $('graph-select').addEventListener('change', (ev) => showGraph(Number(ev.target.value)));
  window.addEventListener('keydown', (ev) => {
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) {
      if (ev.key === 'Escape') ev.target.blur();
      return;
    }
    if (ev.key === '/') { ev.preventDefault(); $('search').focus(); } else if (ev.key === 'f' || ev.key === 'F') fit();
    else if (ev.key === 'Escape') select(null);
  });
  window.addEventListener('resize', requestDraw);

  // ---- start ------------------------------------------------------------

  const graphSelect = $('graph-select');
  model.graphs.forEach((g, i) => {
    const opt = document.createElement('option');
    opt.value = String(i);
    opt.textContent = '@' + g.name + ' (' + g.nodes.length + ' nodes)';
    graphSelect.append(opt);
  });
  graphSelect.hidden = model.graphs.length < 2;
  if (model.graphs.length) showGraph(0);
  draw();

  // Stable hooks for tests and for scripting from the console.
  window.rayccViz = {
    version: model.version,
    loadMs: performance.now(),
    scriptMs: performance.now() - scriptStart,
    lastFrameMs: () => lastFrameMs,
    graphCount: () => model.graphs.length,
    graphNames: () => model.graphs.map((g) => g.name),
    showGraph: (which) => showGraph(typeof which === 'number' ? which : model.graphs.findIndex((g) => g.name === which)),
    nodeCount: () => (G ? G.nodes.length : 0),
    edgeCount: () => (G ? G.edges.length : 0),
    groupCount: () => (G ? G.groups.length : 0),
    workerCount: () => (G && G.run ? G.run.workers.length : 0),
    actualCriticalPath: () => (G && G.run ? G.run.critical.slice() : []),
    search: (q) => { $('search').value = String(q); return search(q); },
    select: (id) => {
      if (!G || !(id >= 0 && id < G.nodes.length)) return false;
      select({ type: 'node', id });
      return true;
    },
    selectedId: () => (ui.selected && ui.selected.type === 'node' ? ui.selected.id : -1),
    selectedDetails: () => ui.details.map(([k, v]) => (v ? k + ': ' + v : k)).join('\n'),
    collapseGroup: (g, collapsed) => { toggleGroup(g, collapsed !== false); draw(); },
    isCollapsed: (g) => ui.collapsed.has(g),
    // Brings node `id` into view at a readable zoom and returns its centre in
    // client coordinates (for clicking it).
    screenPosition: (id) => {
      centerOn(id, 1);
      draw();
      const b = drawnBox(id), r = canvas.getBoundingClientRect();
      return { x: r.left + view.tx + (b[0] + b[2] / 2) * view.scale, y: r.top + view.ty + (b[1] + b[3] / 2) * view.scale };
    },
    draw: () => { draw(); return lastFrameMs; },
    fit: () => { fit(); draw(); },
    zoom: (s) => { view.scale = s; draw(); return lastFrameMs; },
  };
})();
