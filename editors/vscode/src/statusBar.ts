/**
 * The status bar item: model and backend, index state, completions on/off, the last error.
 * Polls `kura/status` (fast while indexing, slow otherwise; never two polls at once) and opens
 * the details on click.
 */
import * as vscode from 'vscode';
import type { KuraStatus } from './protocol';
import { describe, type ServerState } from './statusView';

export type { ServerState } from './statusView';

export interface StatusSource {
  /** `kura/status`, or undefined when no server is running. */
  fetch(): Promise<KuraStatus | undefined>;
}

const FAST_MS = 1_000;
const SLOW_MS = 10_000;

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private disposed = false;
  private serverState: ServerState = 'starting';
  private serverMessage = '';
  last: KuraStatus | undefined;

  constructor(private readonly source: StatusSource, command: string) {
    this.item = vscode.window.createStatusBarItem('kura.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'kura';
    this.item.command = command;
    this.render();
    this.item.show();
  }

  setServerState(state: ServerState, message = ''): void {
    this.serverState = state;
    this.serverMessage = message;
    if (state !== 'running') {
      this.last = undefined;
    }
    this.render();
    this.schedule(state === 'running' ? 0 : SLOW_MS);
  }

  /** Poll now (after a command that changes what the status shows). */
  refresh(): void {
    this.schedule(0);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.item.dispose();
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.disposed) {
      this.timer = setTimeout(() => void this.poll(), ms);
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.serverState !== 'running') {
      return;
    }
    this.polling = true;
    try {
      this.last = await this.source.fetch();
    } catch {
      this.last = undefined; // a slow or restarting server: keep the item, try again later
    } finally {
      this.polling = false;
    }
    this.render();
    this.schedule(this.last?.index?.state === 'indexing' || (this.last?.model?.state === 'loading' || this.last?.model?.state === 'restarting') ? FAST_MS : SLOW_MS);
  }

  private render(): void {
    const view = describe(this.serverState, this.serverMessage, this.last);
    this.item.text = view.text;
    this.item.tooltip = new vscode.MarkdownString(view.tooltip);
    this.item.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.accessibilityInformation = { label: view.tooltip.replace(/[*`$()]/g, '') };
  }
}
