#!/usr/bin/env node
// Loads a `raycc viz` page in headless Chromium and checks it, driving the
// browser over the DevTools protocol on a pipe (--remote-debugging-pipe: no
// port, no network, no npm package). Run through browser_test.sh.
//
//   node browser_check.js PAGE.html [--nodes N] [--groups N] [--workers N]
//        [--search TEXT] [--click-shows TEXT] [--graph NAME]
//        [--screenshot OUT.png [--eval JS]] [--timeout MS]
//
// Always checks: the page loads, no console error, no uncaught exception, no
// dialog (a `<script>` in a task name must stay text). --click-shows clicks
// the first search match with a real mouse event and expects TEXT in the
// details panel. --eval runs JS in the page before the screenshot (to set up
// the view: "rayccViz.select(3); rayccViz.zoom(1)"). Prints the load time and
// size. Exit status: 0 pass, 1 fail,
// 77 when no Chromium is installed.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function usage(msg) {
  console.error('browser_check: ' + msg);
  process.exit(2);
}

const args = process.argv.slice(2);
const opts = { timeout: 60000 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => (i + 1 < args.length ? args[++i] : usage('missing value for ' + a));
  if (a === '--nodes') opts.nodes = Number(value());
  else if (a === '--groups') opts.groups = Number(value());
  else if (a === '--workers') opts.workers = Number(value());
  else if (a === '--search') opts.search = value();
  else if (a === '--click-shows') opts.clickShows = value();
  else if (a === '--graph') opts.graph = value();
  else if (a === '--screenshot') opts.screenshot = value();
  else if (a === '--eval') opts.eval = value();
  else if (a === '--timeout') opts.timeout = Number(value());
  else if (a.startsWith('--')) usage('unknown option ' + a);
  else if (!opts.page) opts.page = a;
  else usage('more than one page given');
}
if (!opts.page) usage('no page given');
if (opts.clickShows !== undefined && opts.search === undefined) usage('--click-shows needs --search');
if (!fs.existsSync(opts.page)) usage('no such file: ' + opts.page);

function findChromium() {
  const candidates = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter(Boolean);
  for (const c of candidates) {
    try {
      return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', c]).toString().trim();
    } catch (e) { /* next */ }
  }
  return null;
}

const chromium = findChromium();
if (!chromium) {
  console.log('SKIP: no Chromium found (apt-get install chromium, or set CHROMIUM)');
  process.exit(77);
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'raycc-viz-chromium-'));
const browser = spawn(chromium, [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--no-default-browser-check',
  '--disable-extensions', '--disable-dev-shm-usage', '--hide-scrollbars',
  '--window-size=1400,900', '--user-data-dir=' + profile,
  '--remote-debugging-pipe', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let browserLog = '';
browser.stderr.on('data', (d) => { browserLog = (browserLog + d).slice(-4000); });

const toBrowser = browser.stdio[3];
const fromBrowser = browser.stdio[4];
let nextId = 1;
const pending = new Map();
const listeners = [];
let buffered = '';
fromBrowser.on('data', (chunk) => {
  buffered += chunk.toString('utf8');
  let end;
  while ((end = buffered.indexOf('\0')) >= 0) {
    const msg = JSON.parse(buffered.slice(0, end));
    buffered = buffered.slice(end + 1);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject, method } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(method + ': ' + msg.error.message));
      else resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners) l(msg);
    }
  }
});

function send(method, params = {}, sessionId) {
  const id = nextId++;
  const msg = { id, method, params };
  if (sessionId) msg.sessionId = sessionId;
  toBrowser.write(JSON.stringify(msg) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

function waitFor(method, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for ' + method)), timeoutMs);
    listeners.push(function once(msg) {
      if (msg.method !== method) return;
      listeners.splice(listeners.indexOf(once), 1);
      clearTimeout(timer);
      resolve(msg.params);
    });
  });
}

const problems = [];
const failures = [];
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures.push(what);
}

async function main() {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const s = (method, params) => send(method, params, sessionId);
  listeners.push((msg) => {
    if (msg.sessionId !== sessionId) return;
    const p = msg.params;
    if (msg.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) {
      problems.push('console.' + p.type + ': ' + p.args.map((a) => a.value ?? a.description).join(' '));
    } else if (msg.method === 'Runtime.exceptionThrown') {
      const d = p.exceptionDetails;
      problems.push('uncaught: ' + ((d.exception && d.exception.description) || d.text));
    } else if (msg.method === 'Log.entryAdded' && p.entry.level === 'error') {
      problems.push('log: ' + p.entry.text + (p.entry.url ? ' (' + p.entry.url + ')' : ''));
    } else if (msg.method === 'Page.javascriptDialogOpening') {
      problems.push('a dialog opened (' + p.type + ': ' + p.message + '): page text was run as script');
      send('Page.handleJavaScriptDialog', { accept: true }, sessionId);
    }
  });
  await s('Runtime.enable');
  await s('Log.enable');
  await s('Page.enable');
  await s('Emulation.setDeviceMetricsOverride', { width: 1400, height: 900, deviceScaleFactor: 1, mobile: false });

  const url = 'file://' + path.resolve(opts.page);
  const loaded = waitFor('Page.loadEventFired', opts.timeout);
  const navStart = Date.now();
  await s('Page.navigate', { url });
  await loaded;
  const wallMs = Date.now() - navStart;
  const evaluate = async (expression) => {
    const r = await s('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(expression + ': ' + (r.exceptionDetails.exception ? r.exceptionDetails.exception.description : r.exceptionDetails.text));
    return r.result.value;
  };

  check(await evaluate('typeof window.rayccViz === "object"'), 'the viewer started (window.rayccViz)');
  if (opts.graph !== undefined) check(await evaluate(`rayccViz.showGraph(${JSON.stringify(opts.graph)})`), 'graph @' + opts.graph + ' exists');
  const stats = await evaluate('({load: rayccViz.loadMs, script: rayccViz.scriptMs, frame: rayccViz.draw(), nodes: rayccViz.nodeCount(), edges: rayccViz.edgeCount(), groups: rayccViz.groupCount(), workers: rayccViz.workerCount()})');
  const size = fs.statSync(opts.page).size;
  console.log(`page ${(size / 1024).toFixed(0)} KiB, ${stats.nodes} nodes, ${stats.edges} edges, ${stats.groups} groups; ` +
    `loaded in ${Math.round(stats.load)} ms (script ${Math.round(stats.script)} ms; load event after ${wallMs} ms wall), ` +
    `a full redraw takes ${stats.frame.toFixed(1)} ms`);
  if (opts.nodes !== undefined) check(stats.nodes === opts.nodes, `node count ${stats.nodes} == ${opts.nodes}`);
  if (opts.groups !== undefined) check(stats.groups === opts.groups, `group count ${stats.groups} == ${opts.groups}`);
  if (opts.workers !== undefined) check(stats.workers === opts.workers, `worker lanes ${stats.workers} == ${opts.workers}`);

  if (opts.search !== undefined) {
    const found = await evaluate(`rayccViz.search(${JSON.stringify(opts.search)})`);
    check(found.length > 0, `search "${opts.search}" finds ${found.length} node(s)`);
    const status = await evaluate('document.getElementById("search-status").textContent');
    check(/match/.test(status), `the toolbar reports the matches ("${status}")`);
    if (opts.clickShows !== undefined && found.length > 0) {
      const at = await evaluate(`rayccViz.screenPosition(${found[0]})`);
      for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased']) {
        await s('Input.dispatchMouseEvent', { type, x: at.x, y: at.y, button: 'left', clickCount: 1 });
      }
      const selected = await evaluate('rayccViz.selectedId()');
      check(selected === found[0], `clicking node #${found[0]} at (${Math.round(at.x)}, ${Math.round(at.y)}) selects it (selected: ${selected})`);
      const details = await evaluate('document.getElementById("details").textContent');
      check(details.includes(opts.clickShows), `the details panel shows "${opts.clickShows}"`);
    }
  }

  if (stats.groups > 0) {
    const folded = await evaluate('(rayccViz.collapseGroup(0, true), rayccViz.isCollapsed(0))');
    const unfolded = await evaluate('(rayccViz.collapseGroup(0, false), !rayccViz.isCollapsed(0))');
    check(folded && unfolded, 'placement group 0 collapses and expands');
  }

  // Pan and zoom must not throw either; time a redraw of the whole graph.
  const overview = await evaluate('(rayccViz.fit(), rayccViz.draw())');
  const closeUp = await evaluate('rayccViz.zoom(1.5)');
  console.log(`redraw at overview ${overview.toFixed(1)} ms, at zoom 1.5 ${closeUp.toFixed(1)} ms`);
  await evaluate('rayccViz.fit()');

  if (opts.screenshot) {
    if (opts.eval) await evaluate(opts.eval);
    const shot = await s('Page.captureScreenshot', { format: 'png' });
    fs.writeFileSync(opts.screenshot, Buffer.from(shot.data, 'base64'));
    console.log('screenshot: ' + opts.screenshot);
  }
  const hostile = await evaluate('document.querySelectorAll("script").length');
  check(hostile === 2, `the document holds only the viewer's 2 script elements (${hostile})`);
  await new Promise((r) => setTimeout(r, 200)); // late console messages
  for (const p of problems) console.log('     ' + p);
  check(problems.length === 0, 'no console errors, exceptions or dialogs');
}

const watchdog = setTimeout(() => {
  console.log('FAIL timed out after ' + opts.timeout + ' ms\n' + browserLog);
  browser.kill('SIGKILL');
  process.exit(1);
}, opts.timeout + 10000);

main().then(() => 0, (e) => {
  console.log('FAIL ' + e.message);
  if (browserLog) console.log(browserLog);
  return 1;
}).then((rc) => {
  clearTimeout(watchdog);
  send('Browser.close').catch(() => {});
  setTimeout(() => browser.kill('SIGKILL'), 2000).unref();
  browser.on('exit', () => {
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(rc || (failures.length ? 1 : 0));
  });
});
