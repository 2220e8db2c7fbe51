import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SuggestionTracker, type DismissReason } from '../../src/suggestionTracker';

function tracker(): { t: SuggestionTracker; dismissed: [string, DismissReason][] } {
  const dismissed: [string, DismissReason][] = [];
  return { t: new SuggestionTracker((s, reason) => dismissed.push([s.id, reason])), dismissed };
}
const shown = { uri: 'file:///a.py', id: 's1', offset: 10, insertText: 'return a + b' };

describe('SuggestionTracker', () => {
  it('an accepted suggestion is never reported as dismissed', () => {
    const { t, dismissed } = tracker();
    t.show(shown);
    t.accepted('s1');
    t.dismiss('hidden');
    assert.deepEqual(dismissed, []);
  });

  it('typing the suggestion keeps it alive', () => {
    const { t, dismissed } = tracker();
    t.show(shown);
    t.requested('file:///a.py', 13, 'ret');
    assert.deepEqual(dismissed, []);
    assert.equal(t.current?.id, 's1');
  });

  it('typing something else dismisses it', () => {
    const { t, dismissed } = tracker();
    t.show(shown);
    t.requested('file:///a.py', 13, 'pas');
    assert.deepEqual(dismissed, [['s1', 'diverged']]);
  });

  it('moving before the anchor or to another file dismisses it', () => {
    const { t, dismissed } = tracker();
    t.show(shown);
    t.requested('file:///b.py', 3, undefined);
    assert.deepEqual(dismissed, [['s1', 'diverged']]);
  });

  it('Escape dismisses it once', () => {
    const { t, dismissed } = tracker();
    t.show(shown);
    t.dismiss('hidden');
    t.dismiss('hidden');
    assert.deepEqual(dismissed, [['s1', 'hidden']]);
  });

  it('a new suggestion replaces the old one', () => {
    const { t, dismissed } = tracker();
    t.show(shown);
    t.show({ ...shown, id: 's2' });
    assert.deepEqual(dismissed, [['s1', 'replaced']]);
  });

  it('typing all of it is neither an accept nor a dismissal', () => {
    const { t, dismissed } = tracker();
    t.show(shown);
    t.requested('file:///a.py', 22, 'return a + b');
    assert.equal(t.current, undefined);
    assert.deepEqual(dismissed, []);
  });
});
