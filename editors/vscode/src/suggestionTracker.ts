/**
 * Which shown inline suggestion is still alive, so the client can tell the server when one was
 * dismissed. VS Code has no stable "dismissed" event: a suggestion counts as dismissed when the
 * user hides it (Escape), moves elsewhere, or types something that diverges from it; typing its
 * own characters keeps it alive (VS Code keeps showing the rest).
 */

export interface ShownSuggestion {
  uri: string;
  id: string;
  /** Document offset where the suggestion was anchored. */
  offset: number;
  insertText: string;
}

export type DismissReason = 'hidden' | 'diverged' | 'replaced' | 'closed';

export class SuggestionTracker {
  private shown: ShownSuggestion | undefined;

  constructor(private readonly onDismiss: (s: ShownSuggestion, reason: DismissReason) => void) {}

  get current(): ShownSuggestion | undefined {
    return this.shown;
  }

  /** A new suggestion was handed to VS Code; the previous one, if any, is over. */
  show(s: ShownSuggestion): void {
    if (this.shown && this.shown.id !== s.id) {
      this.dismiss('replaced');
    }
    this.shown = s;
  }

  accepted(id: string): void {
    if (this.shown?.id === id) {
      this.shown = undefined;
    }
  }

  /**
   * VS Code asks again at `offset` in `uri`; `typed` is the document text between the anchor and
   * `offset` (undefined when the cursor moved before the anchor or to another line's start).
   */
  requested(uri: string, offset: number, typed: string | undefined): void {
    const s = this.shown;
    if (!s) {
      return;
    }
    const typedThrough =
      s.uri === uri && offset >= s.offset && typed !== undefined && s.insertText.startsWith(typed);
    if (!typedThrough) {
      this.dismiss('diverged');
    } else if (typed === s.insertText) {
      this.shown = undefined; // typed all of it: neither accepted by Tab nor dismissed
    }
  }

  dismiss(reason: DismissReason): void {
    const s = this.shown;
    this.shown = undefined;
    if (s) {
      this.onDismiss(s, reason);
    }
  }
}
