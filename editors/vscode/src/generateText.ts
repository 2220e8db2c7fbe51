/** Text helpers of "kura: Generate/Edit…" that need no VS Code (unit-tested on node alone). */

/** The last non-blank line of streamed text, shortened from the left, for a one-line progress message. */
export function progressTail(text: string, max = 80): string {
  const lines = text.split('\n').filter((l) => l.trim());
  const last = (lines[lines.length - 1] ?? '').trim();
  return last.length > max ? `…${last.slice(last.length - max + 1)}` : last;
}
