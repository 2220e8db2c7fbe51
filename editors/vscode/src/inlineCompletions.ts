/**
 * Inline completions are the language client's own `textDocument/inlineCompletion` feature
 * (LSP 3.18, a "proposed" feature in vscode-languageclient 9). This middleware adds what the
 * client alone does not: the local on/off switch, and telling the server what happened to a
 * suggestion (accepted by Tab, or dismissed).
 */
import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import { ServerCommand } from './protocol';
import { SuggestionTracker } from './suggestionTracker';

/** Wraps the server's accept command so the tracker sees accepts; hidden from the palette. */
export const ACCEPTED_COMMAND = 'kura.inlineCompletionAccepted';
/** Bound to Escape while a suggestion is visible: hides it and reports the dismissal. */
export const DISMISS_COMMAND = 'kura.dismissInlineCompletion';

interface AcceptArgs {
  uri?: string;
  id?: string;
}

export function inlineCompletionMiddleware(
  tracker: SuggestionTracker,
  enabled: () => boolean,
): Middleware['provideInlineCompletionItems'] {
  return async (document, position, context, token, next) => {
    const uri = document.uri.toString();
    const offset = document.offsetAt(position);
    const anchor = tracker.current;
    if (anchor && anchor.uri === uri && offset >= anchor.offset) {
      tracker.requested(uri, offset, document.getText(new vscode.Range(document.positionAt(anchor.offset), position)));
    } else if (anchor) {
      tracker.requested(uri, offset, undefined);
    }
    if (!enabled()) {
      return null;
    }
    const result = await next(document, position, asProtocolContext(context), token);
    const items = Array.isArray(result) ? result : result?.items;
    if (!items || items.length === 0 || token.isCancellationRequested) {
      return result;
    }
    for (const item of items) {
      const original = item.command;
      const args = (original?.arguments?.[0] ?? {}) as AcceptArgs;
      if (original?.command === ServerCommand.didAcceptCompletion && args.id) {
        item.command = { title: original.title, command: ACCEPTED_COMMAND, arguments: original.arguments };
      }
    }
    const first = items[0];
    const firstArgs = (first?.command?.arguments?.[0] ?? {}) as AcceptArgs;
    if (first && firstArgs.id && typeof first.insertText === 'string') {
      const start = first.range ? document.offsetAt(first.range.start) : offset;
      // Text the range replaces (before the cursor) is part of insertText; anchor at the cursor.
      const alreadyThere = offset - start;
      tracker.show({ uri, id: firstArgs.id, offset, insertText: first.insertText.slice(Math.max(0, alreadyThere)) });
    }
    return result;
  };
}

/**
 * vscode-languageclient 9 sends VS Code's own trigger kind (Invoke = 0, Automatic = 1) as the LSP
 * one (Invoked = 1, Automatic = 2) unconverted: an explicit trigger (Alt+\\, or ours on
 * `kura/suggestionReady`) arrived as 0, which no server accepts. The converter passes this value on
 * as it is, so give it the protocol's number.
 */
export function asProtocolContext(context: vscode.InlineCompletionContext): vscode.InlineCompletionContext {
  const invoked = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
  return { ...context, triggerKind: (invoked ? 1 : 2) as vscode.InlineCompletionTriggerKind };
}

/**
 * `kura/suggestionReady`: the model finished a suggestion after its request had been answered empty
 * (the first-suggestion cap), or a block suggestion grew after its answer. If that document is still
 * in front of the user, ask again: the server answers from its cache at once.
 */
export function suggestionReady(uri: string | undefined): string {
  const editor = vscode.window.activeTextEditor;
  const active = editor?.document.uri.toString();
  if (uri && active === uri) {
    void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    return `asked again in ${uri}`;
  }
  return `not asked again: ${uri ?? 'no uri'} is not the active editor (${active ?? 'none'})`;
}

/** How long the cursor rests before the server is told (a warm-up costs a prompt evaluation). */
export const CURSOR_REST_MS = 300;

/**
 * Tells the server where the cursor rests (`kura/cursorMoved`), so that it prefills the prompt a
 * completion there would send and the first suggestion does not start from a cold cache: after the
 * cursor moves, and when a file is opened or brought to the front (as Neovim's BufEnter does).
 */
export function cursorRestNotifier(send: (uri: string, line: number, character: number) => void): vscode.Disposable {
  let timer: NodeJS.Timeout | undefined;
  const rest = (editor: vscode.TextEditor | undefined): void => {
    clearTimeout(timer);
    const selection = editor?.selection;
    if (!editor || editor.document.uri.scheme !== 'file' || !selection || !selection.isEmpty) {
      return;
    }
    const uri = editor.document.uri.toString();
    const { line, character } = selection.active;
    timer = setTimeout(() => send(uri, line, character), CURSOR_REST_MS);
  };
  const subscriptions = [
    vscode.window.onDidChangeTextEditorSelection((event) => rest(event.textEditor)),
    vscode.window.onDidChangeActiveTextEditor(rest),
  ];
  rest(vscode.window.activeTextEditor);
  return vscode.Disposable.from(...subscriptions, { dispose: () => clearTimeout(timer) });
}

export function registerInlineCompletionCommands(
  tracker: SuggestionTracker,
  forwardAccept: (args: unknown[]) => Promise<void>,
  output: vscode.LogOutputChannel,
): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(ACCEPTED_COMMAND, async (...args: unknown[]) => {
      const first = (args[0] ?? {}) as AcceptArgs;
      if (first.id) {
        tracker.accepted(first.id);
      }
      output.info(`inline completion accepted (${first.id ?? '?'})`);
      await forwardAccept(args);
    }),
    vscode.commands.registerCommand(DISMISS_COMMAND, async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
      tracker.dismiss('hidden');
    }),
    vscode.window.onDidChangeActiveTextEditor(() => tracker.dismiss('closed')),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (tracker.current?.uri === doc.uri.toString()) {
        tracker.dismiss('closed');
      }
    }),
  ];
}
