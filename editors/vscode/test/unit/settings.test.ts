import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CLIENT_ONLY_KEYS, serverSettings } from '../../src/settings';

describe('serverSettings', () => {
  it('drops the client-only keys and keeps the rest', () => {
    const sent = serverSettings({ serverPath: '/x/kura', trace: { server: 'off' }, model: { backend: 'openai' }, logLevel: 'debug' });
    assert.deepEqual(sent, { model: { backend: 'openai' }, logLevel: 'debug' });
  });

  it('turns anything that is not an object into no settings', () => {
    assert.deepEqual(serverSettings(null), {});
    assert.deepEqual(serverSettings([1]), {});
  });

  it('every contributed setting is either a server setting or a known client-only key', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { default: unknown }> } };
    };
    for (const key of Object.keys(pkg.contributes.configuration.properties)) {
      assert.ok(key.startsWith('kura.'), key);
    }
    assert.ok('kura.serverPath' in pkg.contributes.configuration.properties);
    assert.ok(CLIENT_ONLY_KEYS.includes('serverPath'));
  });
});
