/**
 * "kura: Generate/Edit…": an input box for the instruction; with a selection the server rewrites
 * those lines, without one it writes new code at the cursor. The model's text streams into the
 * progress notification; the proposed edit opens as a diff (current file ↔ proposal) with Accept /
 * Reject. Nothing touches the document until Accept. The cloud variant asks the cloud model under the
 * workspace policy (the server sanitizes, asks for approval, restores placeholders in the code).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ServerManager } from './client';
import { progressTail } from './generateText';
import { ServerCommand, type GenerateResult, type GenerationChunk } from './protocol';

export const PROPOSAL_SCHEME = 'kura-proposal';
const ACCEPT = 'Accept';
const REJECT = 'Reject';

/** Proposed documents shown on the right of the diff, by URI. */
class Proposals implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(uri: vscode.Uri, text: string): void {
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
  }

  delete(uri: vscode.Uri): void {
    this.texts.delete(uri.toString());
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export class GenerateCommand implements vscode.Disposable {
  private readonly proposals = new Proposals();
  private readonly streams = new Map<string, (chunk: GenerationChunk) => void>();
  private readonly disposables: vscode.Disposable[];

  constructor(
    command: string,
    cloudCommand: string,
    private readonly server: ServerManager,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.disposables = [
      this.proposals,
      vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this.proposals),
      vscode.commands.registerCommand(command, (instruction?: unknown) =>
        this.run(typeof instruction === 'string' ? instruction : undefined),
      ),
      vscode.commands.registerCommand(cloudCommand, (instruction?: unknown) =>
        this.run(typeof instruction === 'string' ? instruction : undefined, true),
      ),
    ];
  }

  /** `kura/generation` notifications: the streamed text of a running generation. */
  onChunk(chunk: GenerationChunk): void {
    this.streams.get(chunk.id)?.(chunk);
  }

  /** Ask for the instruction (unless given), run it, and preview the proposal; returns what happened. */
  async run(given?: string, cloud = false): Promise<'accepted' | 'rejected' | 'no edit' | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('kura: open a file first; select code to rewrite it, or place the cursor for new code.');
      return undefined;
    }
    const selection = editor.selection;
    const instruction = (given ?? (await vscode.window.showInputBox({
      title: cloud ? 'kura: Generate/Edit with the cloud model (sanitized)' : 'kura: Generate/Edit',
      prompt: selection.isEmpty ? 'What code should kura write here?' : 'How should kura change the selected code?',
      placeHolder: selection.isEmpty ? 'e.g. add a function that parses a price like "12.30"' : 'e.g. return 0 for an empty list',
      ignoreFocusOut: true,
    })))?.trim();
    if (!instruction) {
      return undefined;
    }
    const document = editor.document;
    const c2p = this.server.code2Protocol;
    const range = c2p
      ? c2p.asRange(selection)
      : { start: { line: selection.start.line, character: selection.start.character }, end: { line: selection.end.line, character: selection.end.character } };
    const id = `kura-generate-${randomBytes(6).toString('hex')}`;
    const args = { uri: document.uri.toString(), range, instruction, id };
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: cloud ? 'kura: generating with the cloud model' : 'kura: generating', cancellable: true },
      async (progress, token) => {
        let text = '';
        this.streams.set(id, (chunk) => {
          text += chunk.chunk;
          const tail = progressTail(text);
          if (tail) {
            progress.report({ message: tail });
          }
        });
        try {
          return await this.server.execute<GenerateResult | null>(cloud ? ServerCommand.generateCloud : ServerCommand.generate, [args], token);
        } finally {
          this.streams.delete(id);
        }
      },
    );
    if (!result?.edit) {
      // The server has already said why (window/showMessage); a second pop-up would repeat it.
      const why = result?.message || 'no code proposed';
      this.output.info(`generate: ${why}`);
      vscode.window.setStatusBarMessage(`$(info) ${why}`, 8000);
      return 'no edit';
    }
    const converted = await this.server.converter?.asWorkspaceEdit(result.edit);
    if (!converted) {
      return 'no edit';
    }
    const edits = converted.get(document.uri);
    const proposed = applyEdits(document, edits);
    const proposalUri = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: document.uri.path, query: id });
    this.proposals.set(proposalUri, proposed);
    const name = document.uri.path.split('/').pop() ?? 'file';
    await vscode.commands.executeCommand('vscode.diff', document.uri, proposalUri, `${name} ↔ kura: ${instruction}`.slice(0, 120), {
      preview: true,
    });
    const choice = await vscode.window.showInformationMessage(`kura: ${result.message}. Apply it?`, ACCEPT, REJECT);
    await closeDiff(proposalUri);
    this.proposals.delete(proposalUri);
    const accepted = choice === ACCEPT;
    if (accepted) {
      const edit = new vscode.WorkspaceEdit();
      edit.set(document.uri, edits);
      if (!(await vscode.workspace.applyEdit(edit))) {
        void vscode.window.showWarningMessage('kura: the file changed meanwhile; the generated code was not applied.');
        return 'rejected';
      }
      await vscode.window.showTextDocument(document, { preview: false });
    }
    // For the local usage log: proposals accepted vs. rejected.
    void this.server
      .execute(ServerCommand.didResolveGeneration, [{ uri: args.uri, id: result.id, outcome: accepted ? 'accepted' : 'rejected' }])
      .catch(() => undefined);
    return accepted ? 'accepted' : 'rejected';
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

/** The document's text with the edits applied (they do not overlap). */
function applyEdits(document: vscode.TextDocument, edits: readonly vscode.TextEdit[]): string {
  const text = document.getText();
  const sorted = [...edits].sort((a, b) => document.offsetAt(b.range.start) - document.offsetAt(a.range.start));
  let out = text;
  for (const e of sorted) {
    out = out.slice(0, document.offsetAt(e.range.start)) + e.newText + out.slice(document.offsetAt(e.range.end));
  }
  return out;
}

async function closeDiff(proposal: vscode.Uri): Promise<void> {
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
  const open = tabs.filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.toString() === proposal.toString());
  if (open.length) {
    await vscode.window.tabGroups.close(open);
  }
}
