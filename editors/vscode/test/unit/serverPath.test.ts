import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findServer, type ServerLookup } from '../../src/serverPath';

function lookup(executables: string[], over: Partial<ServerLookup> = {}): ServerLookup {
  return {
    configuredPath: '',
    workspaceFolders: ['/work/repo'],
    envPath: '/usr/local/bin:/usr/bin',
    platform: 'linux',
    home: '/home/dev',
    isExecutable: (f) => executables.includes(f),
    ...over,
  };
}

describe('findServer', () => {
  it('prefers the kura.serverPath setting', () => {
    const found = findServer(lookup(['/opt/kura/bin/kura', '/work/repo/.venv/bin/kura'], { configuredPath: '/opt/kura/bin/kura' }));
    assert.deepEqual(found, { found: true, command: '/opt/kura/bin/kura', source: 'setting' });
  });

  it('expands ~ and ${workspaceFolder} in the setting', () => {
    assert.equal(findServer(lookup(['/home/dev/bin/kura'], { configuredPath: '~/bin/kura' })).found, true);
    const found = findServer(lookup(['/work/repo/tools/kura'], { configuredPath: '${workspaceFolder}/tools/kura' }));
    assert.ok(found.found && found.command === '/work/repo/tools/kura');
  });

  it('reports a setting that points nowhere instead of silently falling back', () => {
    const found = findServer(lookup(['/work/repo/.venv/bin/kura'], { configuredPath: '/nope/kura' }));
    assert.equal(found.found, false);
    assert.ok(!found.found && found.message.includes('"kura.serverPath" points to /nope/kura'));
  });

  it("uses the workspace's .venv before PATH", () => {
    const found = findServer(lookup(['/work/repo/.venv/bin/kura', '/usr/bin/kura']));
    assert.deepEqual(found, { found: true, command: '/work/repo/.venv/bin/kura', source: 'workspace venv' });
  });

  it('falls back to kura on PATH', () => {
    const found = findServer(lookup(['/usr/bin/kura']));
    assert.deepEqual(found, { found: true, command: '/usr/bin/kura', source: 'PATH' });
  });

  it('uses Scripts\\kura.exe on Windows', () => {
    const found = findServer(lookup(['C:\\repo\\.venv\\Scripts\\kura.exe'], { platform: 'win32', workspaceFolders: ['C:\\repo'], envPath: '' }));
    assert.ok(found.found && found.source === 'workspace venv');
  });

  it('says what was tried and how to fix it when nothing is found', () => {
    const found = findServer(lookup([]));
    assert.equal(found.found, false);
    if (!found.found) {
      assert.deepEqual(found.tried, ['/work/repo/.venv/bin/kura', 'kura on PATH']);
      assert.match(found.message, /not found/);
      assert.match(found.message, /pip install kura/);
      assert.match(found.message, /kura\.serverPath/);
    }
  });
});
