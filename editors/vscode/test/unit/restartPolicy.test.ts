import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartPolicy } from '../../src/restartPolicy';

describe('RestartPolicy', () => {
  it('backs off exponentially and notifies only on the first crash', () => {
    const policy = new RestartPolicy(5, 180_000, 1_000, 30_000);
    const decisions = [0, 1, 2, 3, 4].map((i) => policy.onCrash(i * 1000));
    assert.deepEqual(decisions.map((d) => d.delayMs), [1000, 2000, 4000, 8000, 16000]);
    assert.deepEqual(decisions.map((d) => d.notify), ['first crash', null, null, null, null]);
  });

  it('gives up after too many crashes in the window, telling the user once', () => {
    const policy = new RestartPolicy(2, 180_000);
    policy.onCrash(0);
    policy.onCrash(1);
    assert.deepEqual(policy.onCrash(2), { delayMs: null, crashes: 3, notify: 'giving up' });
    assert.equal(policy.onCrash(3).notify, null);
  });

  it('forgets crashes older than the window', () => {
    const policy = new RestartPolicy(2, 1_000);
    policy.onCrash(0);
    policy.onCrash(1);
    const later = policy.onCrash(10_000);
    assert.equal(later.crashes, 1);
    assert.equal(later.notify, 'first crash');
  });

  it('caps the delay', () => {
    const policy = new RestartPolicy(50, 1e9, 1_000, 5_000);
    let last = policy.onCrash(0);
    for (let i = 1; i < 10; i++) {
      last = policy.onCrash(i);
    }
    assert.equal(last.delayMs, 5_000);
  });

  it('starts a fresh streak after reset (a manual restart)', () => {
    const policy = new RestartPolicy(1, 180_000);
    policy.onCrash(0);
    policy.onCrash(1);
    policy.reset();
    assert.equal(policy.onCrash(2).delayMs, 1000);
  });
});
