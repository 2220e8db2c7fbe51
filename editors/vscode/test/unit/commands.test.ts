import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ServerCommand } from '../../src/protocol';

describe('command names', () => {
  it('no client command shadows a server command (VS Code would refuse to register it)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { commands: { command: string }[] } };
    const server = new Set<string>(Object.values(ServerCommand));
    const clashes = pkg.contributes.commands.map((c) => c.command).filter((c) => server.has(c));
    assert.deepEqual(clashes, []);
  });
});
