/**
 * The side panel where explanations (and escalation previews) render as Markdown, growing while
 * `kura/explanation` notifications stream in; the command's result completes it.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import MarkdownIt from 'markdown-it';
import type { ExplanationChunk } from './protocol';

// Raw HTML from a model is shown as text, never interpreted: html: false.
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false });

interface Session {
  title: string;
  uri: string;
  id: string | undefined;
  text: string;
  done: boolean;
  cloud: boolean;
  error: string | undefined;
  /** `kura/explanation` notifications received for this explanation. */
  chunks: number;
}

export class ExplainPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private session: Session | undefined;
  private renderTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  /** Opens (or reuses) the panel for a new explanation of `uri`; chunks for it will stream in. */
  begin(title: string, uri: string): void {
    this.session = { title, uri, id: undefined, text: '', done: false, cloud: false, error: undefined, chunks: 0 };
    this.reveal();
    this.render();
  }

  /** A `kura/explanation` notification. The first chunk for the pending uri binds its id. */
  onChunk(chunk: ExplanationChunk): void {
    const s = this.session;
    if (!s || s.done) {
      return;
    }
    if (s.id === undefined && chunk.uri === s.uri) {
      s.id = chunk.id;
    }
    if (chunk.id !== s.id) {
      return; // a stale explanation the user already replaced
    }
    s.text += chunk.chunk ?? '';
    s.chunks++;
    s.cloud = s.cloud || Boolean(chunk.cloud);
    if (chunk.done) {
      s.done = true;
    }
    this.scheduleRender();
  }

  /** The command's result: the whole text, authoritative. */
  complete(markdownText: string, id?: string): void {
    const s = this.session;
    if (!s || (id !== undefined && s.id !== undefined && s.id !== id)) {
      return;
    }
    s.text = markdownText;
    s.done = true;
    this.render();
  }

  fail(message: string): void {
    if (!this.session) {
      return;
    }
    this.session.error = message;
    this.session.done = true;
    this.render();
  }

  /** Shows a finished document (e.g. what would be sent to the cloud). */
  show(title: string, markdownText: string): void {
    this.session = { title, uri: '', id: undefined, text: markdownText, done: true, cloud: false, error: undefined, chunks: 0 };
    this.reveal();
    this.render();
  }

  dispose(): void {
    clearTimeout(this.renderTimer);
    this.panel?.dispose();
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  private reveal(): void {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return;
    }
    this.panel = vscode.window.createWebviewPanel(
      'kura.explanation',
      'kura',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, enableFindWidget: true, localResourceRoots: [] },
    );
    this.panel.onDidDispose(() => {
      this.panel = undefined;
    }, null, this.disposables);
    // The page is set once; updates go by message so the view neither flickers nor loses scroll.
    this.panel.webview.onDidReceiveMessage((m: { type?: string }) => {
      if (m?.type === 'ready') {
        this.render();
      }
    }, null, this.disposables);
    this.panel.webview.html = page(this.panel.webview.cspSource, nonce());
  }

  private scheduleRender(): void {
    // Streams arrive token by token; re-render at most every 50 ms.
    if (this.renderTimer === undefined) {
      this.renderTimer = setTimeout(() => {
        this.renderTimer = undefined;
        this.render();
      }, 50);
    }
  }

  private render(): void {
    const s = this.session;
    if (!this.panel || !s) {
      return;
    }
    this.panel.title = `kura: ${s.title}`;
    const state = s.error ? 'error' : s.done ? 'done' : 'streaming';
    const status = s.error ? escapeHtml(s.error) : s.done ? '' : s.text ? 'Writing…' : 'Thinking…';
    void this.panel.webview.postMessage({
      type: 'render',
      title: escapeHtml(s.title) + (s.cloud ? ' <span class="badge">cloud (sanitized)</span>' : ''),
      html: markdown.render(s.text),
      state,
      status,
      chunks: s.chunks,
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
  #kura-status { opacity: .7; font-style: italic; }
  body[data-state="error"] #kura-status { color: var(--vscode-errorForeground); opacity: 1; font-style: normal; }
  .badge { font-size: .7em; padding: .1em .5em; border-radius: 1em; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
</style></head>
<body data-state="streaming"><h2 id="kura-title"></h2><article id="kura-explanation"></article><p id="kura-status">Thinking…</p>
<script nonce="${scriptNonce}">
  const vscode = acquireVsCodeApi();
  window.addEventListener('message', (event) => {
    const m = event.data;
    if (!m || m.type !== 'render') { return; }
    document.getElementById('kura-title').innerHTML = m.title;
    document.getElementById('kura-explanation').innerHTML = m.html;
    document.getElementById('kura-status').innerHTML = m.status;
    document.body.dataset.state = m.state;
    document.body.dataset.chunks = String(m.chunks);
  });
  vscode.postMessage({ type: 'ready' });
</script></body></html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
