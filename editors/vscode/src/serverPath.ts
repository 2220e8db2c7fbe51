/**
 * Finds the `kura` executable: the `kura.serverPath` setting, else the workspace's `.venv`, else
 * `PATH`. Pure apart from the `isExecutable` probe it is given, so it is unit-tested directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ServerLookup {
  /** The `kura.serverPath` setting ('' when unset); `~` and `${workspaceFolder}` are expanded. */
  configuredPath: string;
  workspaceFolders: readonly string[];
  envPath: string | undefined;
  platform: NodeJS.Platform;
  home: string;
  isExecutable: (file: string) => boolean;
}

export type ServerLocation =
  | { found: true; command: string; source: 'setting' | 'workspace venv' | 'PATH' }
  | { found: false; tried: string[]; message: string };

export function findServer(lookup: ServerLookup): ServerLocation {
  const tried: string[] = [];
  const exe = lookup.platform === 'win32' ? 'kura.exe' : 'kura';
  const pathApi = lookup.platform === 'win32' ? path.win32 : path.posix;

  if (lookup.configuredPath.trim()) {
    const configured = expand(lookup.configuredPath.trim(), lookup);
    if (lookup.isExecutable(configured)) {
      return { found: true, command: configured, source: 'setting' };
    }
    // An explicit setting that points nowhere is a mistake to report, not to paper over.
    return {
      found: false,
      tried: [configured],
      message:
        `kura: the setting "kura.serverPath" points to ${configured}, which is not an executable file. ` +
        'Fix the path, or clear the setting to use .venv/bin/kura in the workspace or kura on PATH.',
    };
  }

  for (const folder of lookup.workspaceFolders) {
    const candidate =
      lookup.platform === 'win32'
        ? pathApi.join(folder, '.venv', 'Scripts', exe)
        : pathApi.join(folder, '.venv', 'bin', exe);
    tried.push(candidate);
    if (lookup.isExecutable(candidate)) {
      return { found: true, command: candidate, source: 'workspace venv' };
    }
  }

  const separator = lookup.platform === 'win32' ? ';' : ':';
  for (const dir of (lookup.envPath ?? '').split(separator)) {
    if (!dir) {
      continue;
    }
    const candidate = pathApi.join(dir, exe);
    if (lookup.isExecutable(candidate)) {
      return { found: true, command: candidate, source: 'PATH' };
    }
  }
  tried.push(`${exe} on PATH`);

  return {
    found: false,
    tried,
    message:
      `kura: the kura server was not found (tried ${tried.join(', ')}). ` +
      'Install it with "pip install kura" (or "make setup" in the kura repository), ' +
      'or set "kura.serverPath" to the kura executable.',
  };
}

function expand(p: string, lookup: ServerLookup): string {
  let out = p;
  if (out === '~' || out.startsWith('~/')) {
    out = lookup.home + out.slice(1);
  }
  const first = lookup.workspaceFolders[0];
  if (first !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, first);
  }
  return out;
}

export function isExecutableFile(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      return false;
    }
    if (process.platform === 'win32') {
      return true;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
