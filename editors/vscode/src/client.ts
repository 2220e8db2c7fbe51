/**
 * The server's life: find it, launch `kura serve` through the language client, send settings,
 * and restart it with backoff when it crashes — telling the user once per crash streak.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  RevealOutputChannelOn,
  type DynamicFeature,
  type LanguageClientOptions,
  type StaticFeature,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { inlineCompletionMiddleware, suggestionReady } from './inlineCompletions';
import {
  ANSWER_NOTIFICATION, EXPLANATION_NOTIFICATION, GENERATION_NOTIFICATION, STATUS_REQUEST, SUGGESTION_READY_NOTIFICATION,
  type AnswerChunk,
  type ExplanationChunk, type GenerationChunk, type KuraStatus,
} from './protocol';
import { RestartPolicy } from './restartPolicy';
import { findServer, isExecutableFile, type ServerLocation } from './serverPath';
import { ServerCommandsFeature } from './serverCommands';
import { serverSettings } from './settings';
import type { ServerState } from './statusBar';
import type { SuggestionTracker } from './suggestionTracker';

/**
 * The language client with two changes: its own pop-ups become log lines (the manager decides
 * what the user sees), and server commands are registered by `ServerCommandsFeature`, which
 * survives restarts.
 */
class KuraLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown, _showNotification?: boolean | 'force'): void {
    super.error(message, data, false);
  }

  // Called from the base constructor (registerBuiltinFeatures): no fields of ours exist yet.
  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    const method = (feature as Partial<DynamicFeature<unknown>>).registrationType?.method;
    if (method === ExecuteCommandRequest.method && !(feature instanceof ServerCommandsFeature)) {
      super.registerFeature(
        new ServerCommandsFeature(
          (command, args) => this.runServerCommand(command, args),
          (name, error) => this.warn(`server command ${name} not registered in VS Code: ${String(error)}`),
        ),
      );
      return;
    }
    super.registerFeature(feature);
  }

  async runServerCommand(command: string, args: unknown[]): Promise<unknown> {
    if (!this.isRunning()) {
      throw new Error('kura: the server is not running (run "kura: Restart server")');
    }
    return this.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }
}

export interface ServerEvents {
  state(state: ServerState, message?: string): void;
  explanation(chunk: ExplanationChunk): void;
  answer?(chunk: AnswerChunk): void;
  generation?(chunk: GenerationChunk): void;
}

export class ServerManager implements vscode.Disposable {
  private client: KuraLanguageClient | undefined;
  private readonly policy = new RestartPolicy();
  private restartTimer: NodeJS.Timeout | undefined;
  private generation = 0;
  private disposed = false;
  location: ServerLocation | undefined;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly events: ServerEvents,
    private readonly tracker: SuggestionTracker,
  ) {}

  get running(): boolean {
    return this.client?.isRunning() ?? false;
  }

  async start(): Promise<void> {
    clearTimeout(this.restartTimer);
    const generation = ++this.generation;
    const location = locateServer();
    this.location = location;
    if (!location.found) {
      this.output.error(location.message);
      this.events.state('not found', location.message);
      void vscode.commands.executeCommand('setContext', 'kura.serverRunning', false);
      void vscode.window.showErrorMessage(location.message, 'Open Settings', 'Show Logs').then((choice) => {
        if (choice === 'Open Settings') {
          void vscode.commands.executeCommand('workbench.action.openSettings', 'kura.serverPath');
        } else if (choice === 'Show Logs') {
          this.output.show(true);
        }
      });
      return;
    }
    this.output.info(`starting ${location.command} serve (found via ${location.source})`);
    this.events.state('starting');
    const client = this.createClient(location.command, generation);
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      // The close handler has already scheduled a restart when the process died; otherwise
      // (it could not be spawned at all) this is the crash to count.
      if (generation === this.generation && this.restartTimer === undefined) {
        this.onCrash(generation, `could not start: ${String(error)}`);
      }
      return;
    }
    if (generation !== this.generation) {
      return;
    }
    void vscode.commands.executeCommand('setContext', 'kura.serverRunning', true);
    this.events.state('running');
  }

  /** The Restart command: a fresh streak, no backoff. */
  async restart(): Promise<void> {
    this.policy.reset();
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    this.generation++;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const client = this.client;
    this.client = undefined;
    void vscode.commands.executeCommand('setContext', 'kura.serverRunning', false);
    if (client) {
      try {
        await client.dispose(2000);
      } catch (error) {
        this.output.warn(`stopping the server: ${String(error)}`);
      }
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
  }

  async status(): Promise<KuraStatus | undefined> {
    const client = this.client;
    if (!client?.isRunning()) {
      return undefined;
    }
    const cts = new vscode.CancellationTokenSource();
    const timer = setTimeout(() => cts.cancel(), 5000); // a busy server must not pile up polls
    try {
      return await client.sendRequest<KuraStatus>(STATUS_REQUEST, {}, cts.token);
    } finally {
      clearTimeout(timer);
      cts.dispose();
    }
  }

  /** Runs a server command (`workspace/executeCommand`). */
  async execute<T>(command: string, args: unknown[], token?: vscode.CancellationToken): Promise<T> {
    const client = this.client;
    if (!client?.isRunning()) {
      throw new Error(
        this.location && !this.location.found ? this.location.message : 'kura: the server is not running (kura: Restart server)',
      );
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token)) as T;
  }

  sendNotification(method: string, params: unknown): void {
    if (this.client?.isRunning()) {
      void this.client.sendNotification(method, params);
    }
  }

  /** Converts protocol values (ranges, workspace edits) to VS Code's. */
  get converter(): LanguageClient['protocol2CodeConverter'] | undefined {
    return this.client?.protocol2CodeConverter;
  }

  get code2Protocol(): LanguageClient['code2ProtocolConverter'] | undefined {
    return this.client?.code2ProtocolConverter;
  }

  private createClient(command: string, generation: number): KuraLanguageClient {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const serverOptions: ServerOptions = {
      command,
      args: ['serve'],
      options: { cwd: folder ?? os.homedir(), env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const completionsEnabled = (): boolean =>
      vscode.workspace.getConfiguration('kura').get<boolean>('completion.enabled', true);
    const clientOptions: LanguageClientOptions = {
      // Every file and unsaved buffer; the server decides what it understands.
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: serverSettings(vscode.workspace.getConfiguration('kura')),
      synchronize: { configurationSection: 'kura' },
      middleware: {
        provideInlineCompletionItems: inlineCompletionMiddleware(this.tracker, completionsEnabled),
        workspace: {
          // The server pulls `kura` on change; it gets the section without the client-only keys.
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) {
              return result;
            }
            return result.map((value: unknown, i: number) =>
              params.items[i]?.section === 'kura' ? serverSettings(value) : value,
            );
          },
        },
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          this.onCrash(generation, 'the server process exited');
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      initializationFailedHandler: (error) => {
        this.output.error(`initialize failed: ${String(error)}`);
        return false;
      },
    };
    const client = new KuraLanguageClient('kura', 'kura', serverOptions, clientOptions);
    client.registerProposedFeatures(); // textDocument/inlineCompletion (LSP 3.18)
    client.onNotification(EXPLANATION_NOTIFICATION, (chunk: ExplanationChunk) => this.events.explanation(chunk));
    client.onNotification(SUGGESTION_READY_NOTIFICATION, (params: { uri?: string }) =>
      this.output.info(`suggestion ready: ${suggestionReady(params.uri)}`));
    client.onNotification(ANSWER_NOTIFICATION, (chunk: AnswerChunk) => this.events.answer?.(chunk));
    client.onNotification(GENERATION_NOTIFICATION, (chunk: GenerationChunk) => this.events.generation?.(chunk));
    return client;
  }

  private onCrash(generation: number, why: string): void {
    if (generation !== this.generation || this.disposed || this.restartTimer !== undefined) {
      return; // a stop we asked for, or a crash already being handled
    }
    void vscode.commands.executeCommand('setContext', 'kura.serverRunning', false);
    const decision = this.policy.onCrash(Date.now());
    this.output.error(`kura server stopped (${why}); crash ${decision.crashes} in the last 3 minutes`);
    if (decision.delayMs === null) {
      const message = `kura: the server crashed ${decision.crashes} times in 3 minutes and will not be restarted. See the logs, then run "kura: Restart server".`;
      this.events.state('stopped', message);
      if (decision.notify) {
        void vscode.window.showErrorMessage(message, 'Show Logs', 'Restart').then((choice) => {
          if (choice === 'Show Logs') {
            this.output.show(true);
          } else if (choice === 'Restart') {
            void this.restart();
          }
        });
      }
      return;
    }
    const seconds = Math.round(decision.delayMs / 1000);
    this.events.state('restarting', `crash ${decision.crashes}, retrying in ${seconds}s`);
    if (decision.notify) {
      void vscode.window
        .showWarningMessage(`kura: the server stopped unexpectedly; restarting it (in ${seconds}s).`, 'Show Logs')
        .then((choice) => {
          if (choice === 'Show Logs') {
            this.output.show(true);
          }
        });
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      const old = this.client;
      this.client = undefined;
      void (async () => {
        try {
          await old?.dispose(1000);
        } catch {
          // already stopped
        }
        if (generation === this.generation && !this.disposed) {
          await this.start();
        }
      })();
    }, decision.delayMs);
  }
}

export function locateServer(): ServerLocation {
  const config = vscode.workspace.getConfiguration('kura');
  return findServer({
    configuredPath: config.get<string>('serverPath', ''),
    // An untrusted workspace's .venv is not run (restrictedConfigurations covers the setting).
    workspaceFolders: vscode.workspace.isTrusted
      ? (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath)
      : [],
    envPath: process.env['PATH'],
    platform: process.platform,
    home: os.homedir(),
    isExecutable: isExecutableFile,
  });
}
