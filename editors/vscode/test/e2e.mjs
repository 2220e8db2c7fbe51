// The extension in a real VS Code: code-server on loopback with kura.vsix installed offline,
// driven by Playwright in headless Chromium. One code-server, one browser; each scenario opens
// its own workspace folder (its .vscode/settings.json says which server to use).
//
//   node test/e2e.mjs config.json      → prints one line `KURA_E2E {json}` with what it saw
//
// config.json: { codeServer, node, vsix, chromium, artifacts, workDir, pathEnv,
//                scenarios: [{ name, folder, file, kind: "complete-and-explain" | "missing-server" | "crashing-server"
//                              | "crash-recovers" | "ask" | "generate" }] }
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = { scenarios: {}, timings: {}, errors: [] };
const t0 = Date.now();
const mark = (name) => (results.timings[name] = (Date.now() - t0) / 1000);
const log = (...a) => console.error(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
mkdirSync(config.artifacts, { recursive: true });

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitFor(what, check, timeoutMs = 30_000, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = String(e);
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what} (last: ${JSON.stringify(last)?.slice(0, 300)})`);
}

function run(cmd, args, env, label) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${label} exited ${code}: ${out.slice(-2000)}`))));
  });
}

const dirs = {
  userData: path.join(config.workDir, 'user-data'),
  extensions: path.join(config.workDir, 'extensions'),
  xdg: path.join(config.workDir, 'xdg'),
};
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
// A quiet, offline VS Code: no telemetry, update checks, tours, or trust prompts. Quick suggestions
// are off so the completion list never competes with the ghost text for Tab.
writeFileSync(
  path.join(dirs.userData, 'User', 'settings.json'),
  JSON.stringify(
    {
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'workbench.enableExperiments': false,
      'workbench.startupEditor': 'none',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'workbench.tips.enabled': false,
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'security.workspace.trust.enabled': false,
      'chat.disableAIFeatures': true,
      'editor.inlineSuggest.enabled': true,
      'editor.quickSuggestions': { other: false, comments: false, strings: false },
      'editor.suggestOnTriggerCharacters': false,
      'editor.minimap.enabled': false,
      'files.autoSave': 'off',
      'git.enabled': false,
      'python.languageServer': 'None',
    },
    null,
    2,
  ),
);

const env = {
  PATH: config.pathEnv,
  HOME: config.workDir,
  XDG_CONFIG_HOME: path.join(dirs.xdg, 'config'),
  XDG_DATA_HOME: path.join(dirs.xdg, 'data'),
  XDG_CACHE_HOME: process.env.XDG_CACHE_HOME || path.join(process.env.HOME || config.workDir, '.cache'),
  LANG: 'C.UTF-8',
  // No marketplace: extension queries go to a closed loopback port instead of open-vsx.org.
  EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item' }),
  ...(config.extraEnv || {}),
};
const csArgs = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];

let codeServer;
let browser;
try {
  log('installing', config.vsix);
  const installOut = await run(config.node, [config.codeServer, ...csArgs, '--install-extension', config.vsix], env, 'install-extension');
  results.install = installOut.trim().split('\n').slice(-2).join(' ');
  mark('extensionInstalled');

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const csLog = [];
  codeServer = spawn(
    config.node,
    [config.codeServer, ...csArgs, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry',
      '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
      '--config', path.join(config.workDir, 'code-server.yaml')],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  codeServer.stdout.on('data', (d) => csLog.push(String(d)));
  codeServer.stderr.on('data', (d) => csLog.push(String(d)));
  writeFileSync(path.join(config.workDir, 'code-server.yaml'), '');
  await waitFor('code-server /healthz', async () => (await fetch(`${url}/healthz`)).ok, 60_000, 300);
  mark('codeServerUp');

  browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage'],
  });
  mark('browserUp');

  for (const scenario of config.scenarios) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const outcome = { screenshots: [] };
    results.scenarios[scenario.name] = outcome;
    const shot = async (name) => {
      const file = path.join(config.artifacts, `${scenario.name}-${name}.png`);
      await page.screenshot({ path: file });
      outcome.screenshots.push(file);
    };
    try {
      log('scenario', scenario.name);
      await page.goto(`${url}/?folder=${encodeURIComponent(scenario.folder)}`);
      await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
      await page.waitForSelector('.statusbar', { timeout: 60_000 });
      if (scenario.kind === 'complete-and-explain') {
        await completeAndExplain(page, scenario, outcome, shot);
      } else if (scenario.kind === 'missing-server') {
        await missingServer(page, scenario, outcome, shot);
      } else if (scenario.kind === 'crashing-server') {
        await crashingServer(page, scenario, outcome, shot);
      } else if (scenario.kind === 'crash-recovers') {
        await crashRecovers(page, scenario, outcome, shot);
      } else if (scenario.kind === 'ask') {
        await askCodebase(page, scenario, outcome, shot);
      } else if (scenario.kind === 'generate') {
        await generateCode(page, scenario, outcome, shot);
      } else if (scenario.kind === 'late-suggestion') {
        await lateSuggestion(page, scenario, outcome, shot);
      } else if (scenario.kind === 'warm-on-open') {
        await warmOnOpen(page, scenario, outcome, shot);
      }
      outcome.ok = true;
    } catch (e) {
      outcome.ok = false;
      outcome.error = String(e && e.stack ? e.stack : e);
      log('scenario failed:', outcome.error);
      await shot('failure').catch(() => {});
      outcome.notifications = await notifications(page).catch(() => []);
    }
    mark(`scenario:${scenario.name}`);
    await context.close();
    outcome.extensionLog = extensionLog().slice(outcome.ok ? -8000 : -60000);
  }
  results.codeServerLog = csLog.join('').slice(-4000);
} catch (e) {
  results.errors.push(String(e && e.stack ? e.stack : e));
} finally {
  await browser?.close().catch(() => {});
  codeServer?.kill('SIGTERM');
}
mark('total');
process.stdout.write(`KURA_E2E ${JSON.stringify(results)}\n`);

/** The newest `kura` output channel log (the extension's own lines and the server's stderr). */
function extensionLog() {
  const logs = path.join(dirs.userData, 'logs');
  let newest = null;
  for (const session of readdirSync(logs)) {
    for (const host of readdirSync(path.join(logs, session))) {
      const file = path.join(logs, session, host, 'kura.kura', 'kura.log');
      if (existsSync(file) && (!newest || statSync(file).mtimeMs > statSync(newest).mtimeMs)) newest = file;
    }
  }
  return newest ? readFileSync(newest, 'utf8') : '';
}

// --- scenarios ---------------------------------------------------------------------------------

async function kuraStatusItem(page) {
  // Our item's id is "<extension id>.kura.status"; its text starts with an icon, then "kura".
  const items = page.locator('.statusbar-item[id$="kura.status"]');
  if ((await items.count()) === 0) return null;
  const item = items.first();
  return { text: (await item.innerText()).trim(), label: (await item.locator('a').first().getAttribute('aria-label')) ?? '' };
}

async function notifications(page) {
  return page.locator('.notifications-toasts .notification-toast .notification-list-item-message').allInnerTexts();
}

async function openFile(page, file) {
  await quickOpen(page, file);
  await page.locator('.monaco-editor .view-lines').first().click();
}

/** Open a file through Quick Open, leaving the cursor where VS Code puts it. */
async function quickOpen(page, file) {
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => {});
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(file);
  await page.waitForSelector('.quick-input-list .monaco-list-row', { timeout: 20_000 });
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tab[aria-label^="${path.basename(file)}"]`, { timeout: 20_000 });
}

async function runCommand(page, title) {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${title}`);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`, { timeout: 20_000 });
  await page.keyboard.press('Enter');
}

async function editorText(page) {
  // Visible lines only (the test file is short); Monaco renders spaces as U+00A0.
  const text = await page.locator('.monaco-editor .view-lines').first().innerText();
  return text.replace(/\u00a0/g, ' ');
}

async function ghostText(page) {
  // Inline parts (split by syntax colouring) join up; lines below the cursor come as view lines.
  const inline = (await page.locator('.monaco-editor .ghost-text-decoration').allInnerTexts()).join('');
  const below = await page.locator('.monaco-editor .ghost-text .view-line').allInnerTexts();
  return [inline, ...below].join('\n').replace(/\u00a0/g, ' ');
}

async function completeAndExplain(page, scenario, outcome, shot) {
  await openFile(page, scenario.file);
  const ready = await indexedServer(page, 'the kura status item to show a running server with an up-to-date index');
  outcome.statusItem = ready;
  mark('serverReady');
  await page.locator('.statusbar-item[id$="kura.status"]').first().hover();
  await sleep(1500);
  await shot('status-tooltip');

  await page.locator('.monaco-editor .view-lines').first().click();
  await shot('ready');

  // Type a new function at the end of the file and wait for ghost text.
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  const typed = scenario.typed ?? 'def m';
  await page.keyboard.type(typed, { delay: 60 });
  mark('typed');
  const before = await editorText(page);
  outcome.typed = typed;
  let ghost = '';
  try {
    ghost = await waitFor('ghost text', async () => (await ghostText(page)).trim() ? ghostText(page) : null, 60_000, 150);
  } catch {
    // Ask explicitly once (the same as Alt+\): a slow first model load can miss the automatic trigger.
    await page.keyboard.type(' ', { delay: 10 });
    await page.keyboard.press('Backspace');
    await runCommand(page, 'Trigger Inline Suggestion');
    ghost = await waitFor('ghost text (explicit trigger)', async () => (await ghostText(page)).trim() ? ghostText(page) : null, 60_000, 150);
  }
  outcome.ghostText = ghost;
  mark('ghostText');
  await shot('ghost-text');

  await page.keyboard.press('Tab');
  await waitFor('the ghost text to be inserted', async () => (await ghostText(page)) === '' || (await editorText(page)) !== before, 10_000, 100);
  await sleep(300);
  const after = await editorText(page);
  outcome.editorBefore = before;
  outcome.editorAfter = after;
  await page.keyboard.press('Escape'); // hide any follow-up suggestion before saving
  await page.keyboard.press('Control+S');
  await waitFor('the file to be saved', async () => !(await page.locator('.tab.dirty').count()), 10_000, 200);
  outcome.savedText = readFileSync(path.join(scenario.folder, scenario.file), 'utf8');
  await shot('accepted');
  mark('accepted');

  // Explain the function around line `explainLine` (empty selection = enclosing function).
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').fill(`:${scenario.explainLine ?? 4}`);
  await page.keyboard.press('Enter');
  await runCommand(page, 'kura: Explain selection');
  const seen = { streamingWithText: 0, polls: 0 };
  const frame = await waitFor('the explanation panel', async () => {
    for (const f of page.frames()) {
      if (await f.locator('#kura-explanation').count().catch(() => 0)) return f;
    }
    return null;
  }, 30_000, 200);
  mark('panelOpen');
  const done = await waitFor('the explanation to finish', async () => {
    seen.polls++;
    const state = await frame.locator('body').getAttribute('data-state');
    const text = (await frame.locator('#kura-explanation').innerText()).trim();
    if (state === 'streaming' && text && ++seen.streamingWithText === 3) await shot('explanation-streaming');
    return state === 'done' || state === 'error' ? { state, text } : null;
  }, 180_000, 100);
  outcome.explanation = { ...done, ...seen, title: (await frame.locator('#kura-title').innerText()).trim(),
    chunks: Number(await frame.locator('body').getAttribute('data-chunks')),
    html: (await frame.locator('#kura-explanation').innerHTML()).slice(0, 2000) };
  mark('explained');
  await shot('explanation');
  outcome.notifications = await notifications(page);

  // Fix the function under the cursor: the edit opens VS Code's refactor preview, or the server
  // says why there is none; either way the round trip must not fail.
  const logBefore = extensionLog().length;
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').fill(`:${scenario.explainLine ?? 4}`);
  await page.keyboard.press('Enter');
  await runCommand(page, 'kura: Fix selection');
  outcome.fix = await waitFor('a fix preview or the reason for none', async () => {
    if (await page.locator('.refactor-preview').count()) return { kind: 'preview' };
    const fresh = extensionLog().slice(logBefore);
    const none = fresh.match(/\[info\] fix: (.*)/);
    if (none) return { kind: 'no fix', message: none[1] };
    const failed = fresh.match(/\[error\] kura\.fixSelection: (.*)/);
    return failed ? { kind: 'error', message: failed[1] } : null;
  }, 180_000, 300);
  await shot('fix');
  if (outcome.fix.kind === 'preview') {
    await runCommand(page, 'Discard Refactoring');
  }

  await runCommand(page, 'kura: Show logs');
  await page.waitForSelector('.part.panel .monaco-editor .view-lines', { timeout: 10_000 });
  await sleep(500);
  outcome.logs = (await page.locator('.part.panel .monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ').slice(-3000);
  await shot('logs');

  // Toggle completions off and on again: the status item follows the server.
  await runCommand(page, 'kura: Toggle completions');
  outcome.toggledOff = (await waitFor('completions off in the status item', async () => {
    const s = await kuraStatusItem(page);
    return s && s.label.includes('Completions: off') ? s : null;
  }, 20_000, 300)).label;
  await runCommand(page, 'kura: Toggle completions');
  await waitFor('completions on again', async () => {
    const s = await kuraStatusItem(page);
    return s && s.label.includes('Completions: on') ? s : null;
  }, 20_000, 300);
}

async function missingServer(page, scenario, outcome, shot) {
  const message = await waitFor('the "server not found" notification', async () => {
    const texts = await notifications(page);
    return texts.find((t) => t.includes('not found')) ?? null;
  }, 60_000, 300);
  outcome.message = message;
  await sleep(4000); // a loop of pop-ups would show up here
  outcome.notifications = await notifications(page);
  outcome.statusItem = await kuraStatusItem(page);
  await shot('message');
}

async function crashingServer(page, scenario, outcome, shot) {
  const message = await waitFor('the "server stopped" notification', async () => {
    const texts = await notifications(page);
    return texts.find((t) => t.includes('stopped unexpectedly')) ?? null;
  }, 60_000, 300);
  outcome.message = message;
  await sleep(scenario.observeMs ?? 8000); // restarts at 1 s, 2 s, 4 s…: still one pop-up
  outcome.notifications = await notifications(page);
  outcome.statusItem = await kuraStatusItem(page);
  await shot('message');
}

async function crashRecovers(page, scenario, outcome, shot) {
  await openFile(page, scenario.file);
  outcome.message = await waitFor('the "server stopped" notification', async () => {
    const texts = await notifications(page);
    return texts.find((t) => t.includes('stopped unexpectedly')) ?? null;
  }, 90_000, 300);
  outcome.statusItem = await indexedServer(page, 'the restarted server with an up-to-date index');
  // The restarted server serves completions as the first one did.
  outcome.ghostText = await typeNewLineForGhostText(page, scenario, 'ghost text from the restarted server');
  outcome.notifications = await notifications(page);
  await shot('recovered');
}

/** The Kura status item once the server reports an up-to-date index. */
function indexedServer(page, what) {
  return waitFor(what, async () => {
    const s = await kuraStatusItem(page);
    return s && /Index:\*?\*? ?up to date/.test(s.label) ? s : null;
  }, 120_000, 500);
}

/** Two new lines at the end of the file, `scenario.typed` typed there, then the ghost text that appears. */
async function typeNewLineForGhostText(page, scenario, what) {
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.keyboard.type(scenario.typed ?? 'def m', { delay: 60 });
  return waitFor(what, async () => (await ghostText(page)).trim() ? ghostText(page) : null, 60_000, 150);
}

/**
 * With a first-suggestion cap too short for any model, every request is answered empty: ghost
 * text can only come from the server's `kura/suggestionReady` and the extension asking again.
 */
async function lateSuggestion(page, scenario, outcome, shot) {
  await openFile(page, scenario.file);
  outcome.statusItem = await indexedServer(page, 'a server with an up-to-date index');
  outcome.ghostText = await typeNewLineForGhostText(page, scenario, 'ghost text announced by kura/suggestionReady');
  await shot('late-suggestion');
}

/**
 * A file opened, with no click or keystroke in it: the extension tells the server where the cursor
 * is, and the server warms the model there (its debug log says so).
 */
async function warmOnOpen(page, scenario, outcome, shot) {
  outcome.statusItem = await indexedServer(page, 'a server with an up-to-date index');
  const logBefore = extensionLog().length;
  await quickOpen(page, scenario.file);
  outcome.warmed = await waitFor('the server warming the model in the opened file', async () => {
    const line = extensionLog().slice(logBefore).split('\n').find((l) => l.includes('warmed the prompt at'));
    return line ?? null;
  }, 60_000, 300);
  await shot('warmed');
}

// Ask the codebase: the question typed into the panel's box, the answer streamed, and its first
// citation clicked: the cited file opens at the cited line.
async function askCodebase(page, scenario, outcome, shot) {
  outcome.statusItem = await indexedServer(page, 'a running server with an up-to-date index');
  await runCommand(page, 'kura: Ask the codebase');
  const frame = await waitFor('the ask panel', async () => {
    for (const f of page.frames()) {
      if (await f.locator('#kura-question').count().catch(() => 0)) return f;
    }
    return null;
  }, 30_000, 200);
  await frame.locator('#kura-question').fill(scenario.question);
  await frame.locator('#kura-question').press('Enter');
  const seen = { streamingWithText: 0 };
  outcome.answer = await waitFor('the answer to finish', async () => {
    const state = await frame.locator('body').getAttribute('data-state');
    const text = (await frame.locator('#kura-answer').innerText()).trim();
    if (state === 'streaming' && text) seen.streamingWithText++;
    return state === 'done' || state === 'error' ? { state, text: text.slice(0, 3000) } : null;
  }, 180_000, 100);
  outcome.answer.streamingWithText = seen.streamingWithText;
  outcome.answer.chunks = Number(await frame.locator('body').getAttribute('data-chunks'));
  const links = frame.locator('a.kura-cite');
  outcome.answer.citations = await links.evaluateAll((as) => as.map((a) => `${a.dataset.path}:${a.dataset.line}`));
  await shot('answer');
  const first = links.first();
  const cited = { path: await first.getAttribute('data-path'), line: Number(await first.getAttribute('data-line')) };
  outcome.cited = cited;
  await first.click();
  outcome.opened = await waitFor('the cited file to open at the cited line', async () => {
    const tab = await page.locator(`.tab.active[aria-label^="${path.basename(cited.path)}"]`).count();
    const where = (await page.locator('.statusbar-item[id="status.editor.selection"]').allInnerTexts()).join(' ');
    return tab && where.includes(`Ln ${cited.line},`) ? { tab: path.basename(cited.path), where: where.trim() } : null;
  }, 30_000, 200);
  await shot('citation-opened');
}

// Generate/Edit: the instruction typed into the input box, the proposal shown as a diff with an
// Accept/Reject prompt, the editor unchanged until Accept, then the new code in the editor (unsaved).
async function generateCode(page, scenario, outcome, shot) {
  await openFile(page, scenario.file);
  outcome.statusItem = await indexedServer(page, 'a running server with an up-to-date index');
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').fill(`:${scenario.line}`);
  await page.keyboard.press('Enter');
  outcome.before = await editorText(page);
  // "Generate/Edit with cloud (sanitized)…" matches the same words: pick the local command's row itself.
  await page.keyboard.press('Control+Shift+P');
  await page.locator('.quick-input-widget input').fill('>kura: Generate/Edit…');
  await page.locator('.quick-input-list .monaco-list-row[aria-label^="kura: Generate/Edit…"]').first().click({ timeout: 20_000 });
  const input = page.locator('.quick-input-widget input');
  await waitFor('the instruction box', async () => (await input.getAttribute('placeholder'))?.includes('e.g.'), 10_000, 100);
  await input.fill(scenario.instruction);
  await page.keyboard.press('Enter');
  const prompt = page.locator('.notifications-toasts .notification-toast').filter({ hasText: 'Apply it?' });
  outcome.prompt = await waitFor('the Accept/Reject prompt', async () => ((await prompt.count()) ? (await prompt.first().innerText()).trim() : null), 120_000, 200);
  outcome.diffOpen = (await page.locator('.monaco-diff-editor').count()) > 0;
  outcome.diffTab = (await page.locator('.tab.active').first().getAttribute('aria-label')) ?? '';
  outcome.whileProposed = readFileSync(path.join(scenario.folder, scenario.file), 'utf8');
  await shot('proposal');
  await prompt.first().locator('.monaco-button', { hasText: 'Accept' }).click();
  outcome.editorAfter = await waitFor('the generated code in the editor', async () => {
    const text = await editorText(page);
    return text.includes(scenario.expect) ? text : null;
  }, 30_000, 200);
  outcome.diffOpenAfter = (await page.locator('.monaco-diff-editor').count()) > 0;
  outcome.savedText = readFileSync(path.join(scenario.folder, scenario.file), 'utf8');
  await shot('accepted');
}
