/**
 * Registers the server's commands (`executeCommandProvider`) as VS Code commands, so code actions
 * and inline items that carry them work. Replaces the language client's own feature, which throws
 * "command already exists" when a list holds a name twice or a previous client's registration
 * leaked — and then every restart fails the same way. Here registrations outlive clients: a new
 * client takes over the names, and duplicates are ignored.
 */
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  type ClientCapabilities,
  type DynamicFeature,
  type ExecuteCommandRegistrationOptions,
  type FeatureState,
  type RegistrationData,
  type RegistrationType,
  type ServerCapabilities,
} from 'vscode-languageclient/node';

export type ExecuteCommand = (command: string, args: unknown[]) => Promise<unknown>;

/** One per extension: command name → the registration and the client that currently runs it. */
const registered = new Map<string, { disposable: vscode.Disposable; run: ExecuteCommand }>();

export function disposeServerCommands(): void {
  for (const entry of registered.values()) {
    entry.disposable.dispose();
  }
  registered.clear();
}

export class ServerCommandsFeature implements DynamicFeature<ExecuteCommandRegistrationOptions> {
  private readonly byId = new Map<string, string[]>();

  constructor(
    private readonly run: ExecuteCommand,
    private readonly onConflict: (name: string, error: unknown) => void = () => undefined,
  ) {}

  get registrationType(): RegistrationType<ExecuteCommandRegistrationOptions> {
    return ExecuteCommandRequest.type;
  }

  getState(): FeatureState {
    return { kind: 'workspace', id: ExecuteCommandRequest.method, registrations: this.byId.size > 0 };
  }

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.workspace = capabilities.workspace ?? {};
    capabilities.workspace.executeCommand = { dynamicRegistration: true };
  }

  initialize(capabilities: ServerCapabilities): void {
    if (capabilities.executeCommandProvider) {
      this.register({ id: 'initialize', registerOptions: { ...capabilities.executeCommandProvider } });
    }
  }

  register(data: RegistrationData<ExecuteCommandRegistrationOptions>): void {
    const names = [...new Set(data.registerOptions.commands ?? [])];
    for (const name of names) {
      const existing = registered.get(name);
      if (existing) {
        existing.run = this.run; // this client takes the name over
        continue;
      }
      try {
        const entry = {
          run: this.run,
          disposable: vscode.commands.registerCommand(name, (...args: unknown[]) => entry.run(name, args)),
        };
        registered.set(name, entry);
      } catch (error) {
        // Someone else owns the name: the server command is still reachable through
        // workspace/executeCommand, so this must not fail the whole start.
        this.onConflict(name, error);
      }
    }
    this.byId.set(data.id, names);
  }

  unregister(id: string): void {
    for (const name of this.byId.get(id) ?? []) {
      const entry = registered.get(name);
      if (entry && entry.run === this.run) {
        entry.disposable.dispose();
        registered.delete(name);
      }
    }
    this.byId.delete(id);
  }

  clear(): void {
    // A stopped client's names stay registered (the next client takes them over); running one
    // meanwhile reports that the server is not running instead of "command not found".
    this.byId.clear();
  }
}
