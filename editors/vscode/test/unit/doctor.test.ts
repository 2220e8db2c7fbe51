import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { doctorArgs, doctorOutcome } from '../../src/doctorArgs';

describe('kura doctor from VS Code', () => {
  it('checks the model, index and usage log the settings name', () => {
    const args = doctorArgs({
      model: { backend: 'openai', path: '', serverUrl: 'http://models.internal:8080', name: 'qwen2.5-coder-7b' },
      index: { path: '/tmp/index.db' },
      usage: { path: '  ' },
      completion: { enabled: true },
    });
    assert.deepEqual(args, [
      'doctor', '--backend', 'openai', '--server-url', 'http://models.internal:8080', '--model-name', 'qwen2.5-coder-7b',
      '--index', '/tmp/index.db',
    ]);
  });

  it('passes nothing but the subcommand when no setting is set', () => {
    assert.deepEqual(doctorArgs({}), ['doctor']);
    assert.deepEqual(doctorArgs({ model: 'nonsense', index: null }), ['doctor']);
  });

  it('reads exit 0 as healthy, 1 as problems with fixes, anything else as a doctor that did not run', () => {
    assert.equal(doctorOutcome(0, null).level, 'info');
    assert.equal(doctorOutcome(1, null).level, 'warning');
    assert.match(doctorOutcome(2, null).message, /exited with code 2/);
    assert.match(doctorOutcome(null, 'SIGKILL').message, /killed by SIGKILL/);
  });

  it('is in the command palette as "kura: Run Doctor"', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { commands: { command: string; title: string; category: string }[] } };
    const doctor = pkg.contributes.commands.find((c) => c.command === 'kura.doctor');
    assert.deepEqual(doctor && `${doctor.category}: ${doctor.title}`, 'kura: Run Doctor');
  });
});
