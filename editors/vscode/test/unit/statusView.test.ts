import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describe as view } from '../../src/statusView';

describe('status bar view', () => {
  it('shows indexing progress', () => {
    const v = view('running', '', { model: { name: 'gemma', backend: 'llama_cpp', state: 'ready' }, completionsEnabled: true, index: { state: 'indexing', progress: { done: 5, total: 20 } } });
    assert.equal(v.text, '$(sync~spin) kura 25%');
    assert.match(v.tooltip, /indexing 5\/20 files/);
  });

  it('shows model, backend, up-to-date index and completions on', () => {
    const v = view('running', '', { model: { name: 'gemma', backend: 'llama_cpp', state: 'ready' }, completionsEnabled: true, index: { state: 'ready', files: 3, symbols: 9 } });
    assert.equal(v.text, '$(sparkle) kura');
    assert.match(v.tooltip, /gemma \(llama_cpp\)/);
    assert.match(v.tooltip, /up to date — 3 files, 9 symbols/);
    assert.match(v.tooltip, /Completions:\*\* on/);
  });

  it('marks completions off and errors', () => {
    assert.equal(view('running', '', { completionsEnabled: false, index: { state: 'ready' } }).text, '$(circle-slash) kura');
    const broken = view('running', '', { index: { state: 'error', error: 'disk full' }, lastError: 'boom' });
    assert.equal(broken.error, true);
    assert.match(broken.tooltip, /Last error:\*\* boom/);
  });

  it('shows a crashed model restarting without calling it an error', () => {
    const v = view('running', '', { model: { name: 'gemma', state: 'restarting', error: 'the local model process stopped (SIGILL)' }, index: { state: 'ready' }, lastError: 'the local model process stopped (SIGILL)' });
    assert.equal(v.text, '$(sync~spin) kura model restarting');
    assert.equal(v.error, false);
    assert.match(v.tooltip, /restarting: the local model process stopped \(SIGILL\)/);
  });

  it('says when the server is missing', () => {
    const v = view('not found', 'kura: the kura server was not found', undefined);
    assert.equal(v.error, true);
    assert.match(v.tooltip, /not found/);
  });
});
