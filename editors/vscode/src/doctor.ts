/**
 * `kura: Run Doctor`: runs `kura doctor` with the server the extension found and the settings it
 * gives the server, streaming the report into the kura output channel.
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as vscode from 'vscode';
import { locateServer } from './client';
import { doctorArgs, doctorOutcome } from './doctorArgs';
import { serverSettings } from './settings';

export const DOCTOR_COMMAND = 'kura.doctor';

export function registerDoctorCommand(output: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.commands.registerCommand(DOCTOR_COMMAND, async () => {
    const location = locateServer();
    if (!location.found) {
      output.error(location.message);
      void vscode.window.showErrorMessage(location.message);
      return undefined;
    }
    const args = doctorArgs(serverSettings(vscode.workspace.getConfiguration('kura')));
    const folder = (vscode.workspace.workspaceFolders ?? []).find((f) => f.uri.scheme === 'file');
    const cwd = folder?.uri.fsPath ?? os.homedir();
    output.show(true);
    output.info(`running ${location.command} ${args.join(' ')} in ${cwd}`);
    const ended = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'kura: running doctor (loads the model once)…' },
      () => run(location.command, args, cwd, output),
    );
    const outcome = doctorOutcome(ended.code, ended.signal);
    const show = outcome.level === 'info'
      ? vscode.window.showInformationMessage
      : outcome.level === 'warning' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
    void show(outcome.message, 'Show Output').then((choice) => {
      if (choice) {
        output.show(true);
      }
    });
    return ended.code;
  });
}

function run(command: string, args: string[], cwd: string, output: vscode.LogOutputChannel): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = (log: (line: string) => void) => {
      let rest = '';
      return (chunk: Buffer): void => {
        const parts = (rest + chunk.toString('utf8')).split('\n');
        rest = parts.pop() ?? '';
        parts.forEach((line) => log(line));
      };
    };
    child.stdout.on('data', lines((line) => output.appendLine(line)));
    child.stderr.on('data', lines((line) => output.warn(line)));
    child.on('error', (error) => {
      output.error(`kura doctor could not start: ${error.message}`);
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
}
