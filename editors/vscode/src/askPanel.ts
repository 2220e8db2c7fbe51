/**
 * The "Ask the codebase" panel: a question box, and the answer rendered as Markdown while
 * `kura/answer` notifications stream in; every `path:line` in it is a link that opens the file there.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import MarkdownIt from 'markdown-it';
import { insideRoot, linkCitations } from './askLinks';
import { escapeHtml } from './explainPanel';
import type { AnswerChunk, AskResult, Citation } from './protocol';

// Raw HTML from a model is shown as text, never interpreted; no linkify (`retry.py` is a domain to it).
const markdown = new MarkdownIt({ html: false, linkify: false, breaks: false });

interface Session {
  id: string;
  question: string;
  text: string;
  done: boolean;
  cloud: boolean;
  error: string | undefined;
  chunks: number;
  citations: Citation[];
}

/** Runs `kura.ask` (or `kura.askCloud` when `cloud`: escalated under the workspace policy, sanitized). */
export type AskRunner = (question: string, id: string, cloud: boolean) => Promise<AskResult | null>;

/** `kura.askCodebase [question]`: the panel, asking the question when one is given (keybindings, tests). */
export function registerAskCommand(command: string, panel: AskPanel): vscode.Disposable {
  return vscode.commands.registerCommand(command, (question?: unknown) =>
    panel.open(typeof question === 'string' ? question : undefined),
  );
}

export class AskPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private session: Session | undefined;
  private renderTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly run: AskRunner,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  /** Opens the panel (question box focused); with a question, asks it right away. */
  async open(question?: string): Promise<AskResult | undefined> {
    this.reveal();
    this.render();
    return question?.trim() ? this.ask(question.trim()) : undefined;
  }

  async ask(question: string, cloud = false): Promise<AskResult | undefined> {
    const id = `kura-ask-${randomBytes(6).toString('hex')}`;
    this.session = { id, question, text: '', done: false, cloud, error: undefined, chunks: 0, citations: [] };
    this.reveal();
    this.render();
    try {
      const result = await this.run(question, id, cloud);
      if (this.session?.id !== id) {
        return result ?? undefined; // replaced by a newer question
      }
      if (result?.error && !result.markdown) {
        this.fail(result.error);
      } else if (result) {
        this.session.text = result.markdown;
        this.session.citations = result.citations ?? [];
        this.session.cloud = result.cloud === true;
        this.session.done = true;
        this.render();
      } else {
        this.fail('No answer (cancelled).');
      }
      return result ?? undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.output.error(`ask: ${message}`);
      if (this.session?.id === id) {
        this.fail(message);
      }
      return undefined;
    }
  }

  /** A `kura/answer` notification: only the current question's chunks count. */
  onChunk(chunk: AnswerChunk): void {
    const s = this.session;
    if (!s || s.done || chunk.id !== s.id) {
      return;
    }
    s.text += chunk.chunk ?? '';
    s.chunks++;
    s.cloud = s.cloud || Boolean(chunk.cloud);
    this.scheduleRender();
  }

  dispose(): void {
    clearTimeout(this.renderTimer);
    this.panel?.dispose();
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  private fail(message: string): void {
    if (!this.session) {
      return;
    }
    this.session.error = message;
    this.session.done = true;
    this.render();
  }

  /** Opens a cited file at its line, beside the panel; a path outside the workspace is refused. */
  private async openCitation(path: string, line: number): Promise<void> {
    const known = this.session?.citations.find((c) => c.path === path && c.uri);
    let uri: vscode.Uri | undefined = known?.uri ? vscode.Uri.parse(known.uri) : undefined;
    if (!uri) {
      const root = vscode.workspace.workspaceFolders?.[0]?.uri;
      const joined = root ? insideRoot(root.path, path) : undefined;
      uri = root && joined ? root.with({ path: joined }) : undefined;
    }
    if (!uri) {
      this.output.warn(`ask: cannot open ${path}:${line} (not in the workspace)`);
      return;
    }
    const at = new vscode.Position(Math.max(0, line - 1), 0);
    try {
      await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(at, at) });
    } catch (error) {
      this.output.warn(`ask: cannot open ${path}:${line}: ${String(error)}`);
      void vscode.window.showWarningMessage(`kura: cannot open ${path}:${line}`);
    }
  }

  private reveal(): void {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, false);
      return;
    }
    this.panel = vscode.window.createWebviewPanel(
      'kura.ask',
      'kura: Ask',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      { enableScripts: true, enableFindWidget: true, retainContextWhenHidden: true, localResourceRoots: [] },
    );
    this.panel.onDidDispose(() => {
      this.panel = undefined;
    }, null, this.disposables);
    this.panel.webview.onDidReceiveMessage((m: { type?: string; question?: unknown; cloud?: unknown; path?: unknown; line?: unknown }) => {
      if (m?.type === 'ready') {
        this.render();
      } else if (m?.type === 'ask' && typeof m.question === 'string' && m.question.trim()) {
        void this.ask(m.question.trim(), m.cloud === true);
      } else if (m?.type === 'open' && typeof m.path === 'string') {
        void this.openCitation(m.path, Number(m.line) || 1);
      }
    }, null, this.disposables);
    this.panel.webview.html = page(this.panel.webview.cspSource, nonce());
  }

  private scheduleRender(): void {
    if (this.renderTimer === undefined) {
      this.renderTimer = setTimeout(() => {
        this.renderTimer = undefined;
        this.render();
      }, 50);
    }
  }

  private render(): void {
    const s = this.session;
    if (!this.panel) {
      return;
    }
    const state = !s ? 'idle' : s.error ? 'error' : s.done ? 'done' : 'streaming';
    const status = !s ? '' : s.error ? escapeHtml(s.error) : s.done ? '' : s.text ? 'Writing…' : 'Searching the code…';
    void this.panel.webview.postMessage({
      type: 'render',
      question: s?.question ?? '',
      badge: s?.cloud ? '<span class="badge">cloud (sanitized)</span>' : '',
      html: s ? linkCitations(markdown.render(s.text)) : '',
      state,
      status,
      chunks: s?.chunks ?? 0,
    });
  }
}

function nonce(): string {
  return randomBytes(18).toString('base64url');
}

function page(cspSource: string, scriptNonce: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${cspSource} https: data:; style-src 'unsafe-inline'; script-src 'nonce-${scriptNonce}';">
<style>
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 1em; line-height: 1.5; }
  pre, code { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
  pre { background: var(--vscode-textCodeBlock-background); padding: .6em; overflow-x: auto; }
  form { display: flex; gap: .5em; margin: 1em 0; }
  form label { white-space: nowrap; align-self: center; }
  #kura-question { flex: 1; padding: .3em .5em; color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, transparent); }
  button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: .3em 1em; cursor: pointer; }
  a.kura-cite { cursor: pointer; }
  #kura-status { opacity: .7; font-style: italic; }
  body[data-state="error"] #kura-status { color: var(--vscode-errorForeground); opacity: 1; font-style: normal; }
  .badge { font-size: .7em; padding: .1em .5em; border-radius: 1em; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
</style></head>
<body data-state="idle">
<form id="kura-ask"><input id="kura-question" type="text" placeholder="Ask about this codebase, e.g. where do we validate webhook signatures?" aria-label="Question"><label title="Escalate under the workspace policy: confidential files dropped, secrets redacted"><input id="kura-cloud" type="checkbox"> cloud (sanitized)</label><button type="submit">Ask</button></form>
<div id="kura-badge"></div><article id="kura-answer"></article><p id="kura-status"></p>
<script nonce="${scriptNonce}">
  const vscode = acquireVsCodeApi();
  const input = document.getElementById('kura-question');
  document.getElementById('kura-ask').addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value.trim()) { vscode.postMessage({ type: 'ask', question: input.value.trim(), cloud: document.getElementById('kura-cloud').checked }); }
  });
  document.getElementById('kura-answer').addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.kura-cite');
    if (!link) { return; }
    event.preventDefault();
    vscode.postMessage({ type: 'open', path: link.dataset.path, line: Number(link.dataset.line) });
  });
  window.addEventListener('message', (event) => {
    const m = event.data;
    if (!m || m.type !== 'render') { return; }
    if (m.question && document.activeElement !== input) { input.value = m.question; }
    document.getElementById('kura-badge').innerHTML = m.badge;
    document.getElementById('kura-answer').innerHTML = m.html;
    document.getElementById('kura-status').innerHTML = m.status;
    document.body.dataset.state = m.state;
    document.body.dataset.chunks = String(m.chunks);
  });
  input.focus();
  vscode.postMessage({ type: 'ready' });
</script></body></html>`;
}
