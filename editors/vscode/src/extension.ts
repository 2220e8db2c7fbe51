/**
 * kura for VS Code: wires the server manager, status bar, explanation panel, inline-completion
 * reporting and commands together. All intelligence lives in the server.
 */
import * as vscode from 'vscode';
import { ServerManager } from './client';
import { Command, registerCommands } from './commands';
import { registerDoctorCommand } from './doctor';
import { AskPanel, registerAskCommand } from './askPanel';
import { ExplainPanel } from './explainPanel';
import { GenerateCommand } from './generate';
import { cursorRestNotifier, registerInlineCompletionCommands } from './inlineCompletions';
import { disposeServerCommands } from './serverCommands';
import { CURSOR_NOTIFICATION, DID_DISMISS_COMPLETION, ServerCommand, type AskResult } from './protocol';
import { StatusBar } from './statusBar';
import { type DismissReason, SuggestionTracker } from './suggestionTracker';

let server: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('kura', { log: true });
  const panel = new ExplainPanel();
  const askPanel = new AskPanel(
    (question, id, cloud) => manager.execute<AskResult | null>(cloud ? ServerCommand.askCloud : ServerCommand.ask, [{ question, id }]),
    output,
  );
  const tracker = new SuggestionTracker((s, reason) => {
    output.debug(`suggestion ${s.id} dismissed (${reason})`);
    server?.sendNotification(DID_DISMISS_COMPLETION, { uri: s.uri, id: s.id, reason: dismissReason(reason) });
  });
  const manager = new ServerManager(
    output,
    {
      state: (state, message) => status.setServerState(state, message),
      explanation: (chunk) => panel.onChunk(chunk),
      answer: (chunk) => askPanel.onChunk(chunk),
      generation: (chunk) => generate.onChunk(chunk),
    },
    tracker,
  );
  server = manager;
  const generate = new GenerateCommand(Command.generate, Command.generateCloud, manager, output);
  const status = new StatusBar({ fetch: () => manager.status() }, Command.showStatus);

  context.subscriptions.push(
    output,
    panel,
    status,
    ...registerCommands({ server: manager, panel, status, output }),
    askPanel,
    registerAskCommand(Command.ask, askPanel),
    generate,
    registerDoctorCommand(output),
    cursorRestNotifier((uri, line, character) => manager.sendNotification(CURSOR_NOTIFICATION, { uri, position: { line, character } })),
    ...registerInlineCompletionCommands(tracker, async (args) => {
      try {
        await manager.execute(ServerCommand.didAcceptCompletion, args);
      } catch (error) {
        output.warn(`reporting an accepted completion: ${String(error)}`);
      }
    }, output),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('kura.serverPath')) {
        void manager.restart();
      } else if (e.affectsConfiguration('kura')) {
        status.refresh();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void manager.restart()),
    { dispose: () => void manager.dispose() },
  );
  // Not awaited: activation never waits on the server (a slow one must not hold VS Code up).
  void manager.start();
}

export async function deactivate(): Promise<void> {
  await server?.dispose();
  server = undefined;
  disposeServerCommands();
}

/** The server's words for why a suggestion went away (the usage log counts typed-over apart). */
function dismissReason(reason: DismissReason): string {
  return reason === 'diverged' ? 'typed_over' : reason;
}
