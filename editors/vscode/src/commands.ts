/** The palette and context-menu commands; each forwards to a server command and shows the result. */
import * as vscode from 'vscode';
import type { ServerManager } from './client';
import type { ExplainPanel } from './explainPanel';
import {
  modelName,
  ServerCommand,
  type EscalationPreview,
  type ExplainResult,
  type FixResult,
  type LocatedParams,
  type ReindexResult,
} from './protocol';
import type { StatusBar } from './statusBar';

export const Command = {
  explain: 'kura.explainSelection',
  fix: 'kura.fixSelection',
  explainCloud: 'kura.explainSelectionWithCloud',
  fixCloud: 'kura.fixSelectionWithCloud',
  preview: 'kura.previewCloudPayload',
  reindex: 'kura.reindexRepository',
  showStatus: 'kura.showStatus',
  showLogs: 'kura.showLogs',
  toggle: 'kura.toggleInlineCompletions',
  restart: 'kura.restartServer',
  ask: 'kura.askCodebase',
  generate: 'kura.generateCode',
  generateCloud: 'kura.generateCodeWithCloud',
} as const;

interface Deps {
  server: ServerManager;
  panel: ExplainPanel;
  status: StatusBar;
  output: vscode.LogOutputChannel;
}

export function registerCommands(deps: Deps): vscode.Disposable[] {
  const { server, panel, status, output } = deps;
  const run = (id: string, fn: () => Promise<unknown>): vscode.Disposable =>
    vscode.commands.registerCommand(id, async () => {
      try {
        return await fn();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        output.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(message.startsWith('kura') ? message : `kura: ${message}`, 'Show Logs').then((c) => {
          if (c) {
            output.show(true);
          }
        });
        return undefined;
      }
    });

  const explain = async (cloud: boolean): Promise<ExplainResult | undefined> => {
    const where = located(server);
    if (!where) {
      return undefined;
    }
    const title = `${cloud ? 'Cloud explanation' : 'Explanation'} of ${where.label}`;
    panel.begin(title, where.params.uri);
    try {
      const result = await server.execute<ExplainResult | null>(
        cloud ? ServerCommand.explainCloud : ServerCommand.explain,
        [where.params],
      );
      if (result?.error && !result.markdown) {
        panel.fail(result.error);
      } else if (result) {
        panel.complete(result.markdown, result.id);
      } else {
        panel.fail('No explanation (cancelled, or the policy did not allow it).');
      }
      return result ?? undefined;
    } catch (error) {
      // The panel shows why; no second pop-up.
      const message = error instanceof Error ? error.message : String(error);
      output.error(`explain: ${message}`);
      panel.fail(message);
      return undefined;
    }
  };

  const fix = async (cloud: boolean): Promise<void> => {
    const where = located(server);
    if (!where) {
      return;
    }
    const diagnostic = diagnosticAt(where.editor);
    const args = diagnostic ? { ...where.params, diagnostic } : where.params;
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: cloud ? 'kura: fixing with the cloud…' : 'kura: fixing…', cancellable: true },
      (_progress, token) => server.execute<FixResult | null>(cloud ? ServerCommand.fixCloud : ServerCommand.fix, [args], token),
    );
    if (!result) {
      return;
    }
    if (!result.edit) {
      // The server has already said why (window/showMessage); a second pop-up would repeat it.
      const why = result.error || result.message || 'no fix proposed';
      output.info(`fix: ${why}`);
      vscode.window.setStatusBarMessage(`$(info) kura: ${why}`, 8000);
      return;
    }
    const converted = await server.converter?.asWorkspaceEdit(result.edit);
    if (!converted) {
      return;
    }
    // needsConfirmation opens VS Code's refactor preview: the user sees the diff before applying.
    const previewed = new vscode.WorkspaceEdit();
    const metadata: vscode.WorkspaceEditEntryMetadata = {
      needsConfirmation: true,
      label: 'kura fix',
      description: result.message,
    };
    for (const [uri, edits] of converted.entries()) {
      for (const edit of edits) {
        previewed.replace(uri, edit.range, edit.newText, metadata);
      }
    }
    const applied = await vscode.workspace.applyEdit(previewed);
    if (applied) {
      // For the local usage log: fixes offered vs. applied.
      void server.execute(ServerCommand.didApplyFix, [{ uri: where.params.uri }]).catch(() => undefined);
    }
    if (applied && result.message) {
      void vscode.window.showInformationMessage(`kura: ${result.message}`);
    }
  };

  return [
    run(Command.explain, () => explain(false)),
    run(Command.explainCloud, () => explain(true)),
    run(Command.fix, () => fix(false)),
    run(Command.fixCloud, () => fix(true)),
    run(Command.preview, async () => {
      const where = located(server);
      if (!where) {
        return;
      }
      const task = await vscode.window.showQuickPick(['explain', 'fix'], { placeHolder: 'Preview what would be sent for…' });
      if (!task) {
        return;
      }
      const preview = await server.execute<EscalationPreview>(ServerCommand.previewEscalation, [{ ...where.params, task }]);
      panel.show(`What would be sent (${task})`, previewMarkdown(preview));
    }),
    run(Command.reindex, async () => {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'kura: reindexing the repository…' },
        () => server.execute<ReindexResult>(ServerCommand.reindex, []),
      );
      status.refresh();
      void vscode.window.showInformationMessage(
        `kura: indexed ${result.files} files (${result.parsed} parsed) in ${result.seconds.toFixed(1)}s.`,
      );
    }),
    run(Command.toggle, async () => {
      const config = vscode.workspace.getConfiguration('kura');
      const enabled = !config.get<boolean>('completion.enabled', true);
      const inspect = config.inspect<boolean>('completion.enabled');
      const target =
        inspect?.workspaceFolderValue !== undefined
          ? vscode.ConfigurationTarget.WorkspaceFolder
          : inspect?.workspaceValue !== undefined
            ? vscode.ConfigurationTarget.Workspace
            : vscode.ConfigurationTarget.Global;
      await config.update('completion.enabled', enabled, target);
      if (server.running) {
        // Immediate even before the server re-reads its settings; the setting stays the truth.
        await server.execute(ServerCommand.toggleCompletions, [enabled]).catch((error: unknown) => {
          output.warn(`kura.toggleCompletions: ${String(error)}`);
        });
      }
      status.refresh();
      vscode.window.setStatusBarMessage(`kura: completions ${enabled ? 'on' : 'off'}`, 3000);
      return { enabled };
    }),
    run(Command.showLogs, () => Promise.resolve(output.show(true))),
    run(Command.restart, async () => {
      await server.restart();
    }),
    run(Command.showStatus, async () => {
      const s = server.running ? await server.status() : undefined;
      const items: (vscode.QuickPickItem & { command?: string })[] = [];
      if (!s) {
        const location = server.location;
        items.push({ label: '$(error) Server not running', detail: location && !location.found ? location.message : undefined });
      } else {
        const model = s.model ?? {};
        items.push({ label: `$(hubot) Model: ${modelName(model)}`, description: `${model.backend ?? s.backend ?? ''} · ${model.state ?? ''}`, detail: model.error ?? undefined });
        const index = s.index ?? {};
        items.push({ label: `$(database) Index: ${index.state ?? 'unknown'}`, description: `${index.files ?? 0} files · ${index.symbols ?? 0} symbols`, detail: index.root ?? undefined });
        items.push({ label: `$(lightbulb) Completions: ${s.completionsEnabled === false ? 'off' : 'on'}`, description: `server ${s.version ?? ''}` });
        if (s.lastError) {
          items.push({ label: '$(warning) Last error', detail: s.lastError });
        }
      }
      items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
      items.push({ label: '$(lightbulb) Toggle completions', command: Command.toggle });
      items.push({ label: '$(sync) Reindex repository', command: Command.reindex });
      items.push({ label: '$(output) Show logs', command: Command.showLogs });
      items.push({ label: '$(debug-restart) Restart server', command: Command.restart });
      const picked = await vscode.window.showQuickPick(items, { title: 'kura status', matchOnDetail: true });
      if (picked?.command) {
        await vscode.commands.executeCommand(picked.command);
      }
      return s;
    }),
  ];
}

function located(server: ServerManager): { params: LocatedParams; label: string; editor: vscode.TextEditor } | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('kura: open a file and select code first.');
    return undefined;
  }
  const c2p = server.code2Protocol;
  const selection = editor.selection;
  const range = c2p ? c2p.asRange(selection) : { start: { line: selection.start.line, character: selection.start.character }, end: { line: selection.end.line, character: selection.end.character } };
  const name = editor.document.uri.path.split('/').pop() ?? 'file';
  const label = selection.isEmpty
    ? `the code around ${name}:${selection.active.line + 1}`
    : `${name}:${selection.start.line + 1}–${selection.end.line + 1}`;
  return { params: { uri: editor.document.uri.toString(), range }, label, editor };
}

function diagnosticAt(editor: vscode.TextEditor): string | undefined {
  const here = editor.selection;
  const found = vscode.languages
    .getDiagnostics(editor.document.uri)
    .filter((d) => d.range.intersection(here) !== undefined)
    .sort((a, b) => a.severity - b.severity)[0];
  return found?.message;
}

export function previewMarkdown(p: EscalationPreview): string {
  const lines = [`**Decision:** ${p.decision}`, '', `**Why:** ${p.reason}`, ''];
  if (p.redactions?.length) {
    lines.push('| line | rule | kind |', '|---:|---|---|');
    for (const r of p.redactions) {
      lines.push(`| ${r.line} | ${r.rule} | ${r.kind} |`);
    }
    lines.push('');
  } else {
    lines.push('No redactions.', '');
  }
  const fence = p.payload?.includes('```') ? '~~~~' : '```';
  lines.push('**Payload:**', '', fence, p.payload ?? '', fence);
  return lines.join('\n');
}
