/**
 * Citations in an answer's HTML: each `path:line` becomes a link the ask panel opens, and a link's
 * path is resolved only inside the workspace. Pure (no vscode), unit-tested.
 */

// A relative path with a file extension, then :line; not part of a longer path or URL.
const CITATION = /(?<![\w/.:-])((?:[\w.-]+\/)*[\w-][\w.-]*\.[A-Za-z0-9]+):(\d+)\b/g;

/** The HTML with every `path:line` outside tags, links and code blocks turned into a citation link. */
export function linkCitations(html: string): string {
  let inAnchor = 0;
  let inPre = 0;
  return html
    .split(/(<[^>]*>)/)
    .map((part) => {
      if (part.startsWith('<')) {
        const tag = /^<\/?\s*([a-zA-Z]+)/.exec(part)?.[1]?.toLowerCase();
        const closing = part.startsWith('</');
        if (tag === 'a') inAnchor += closing ? -1 : 1;
        if (tag === 'pre') inPre += closing ? -1 : 1;
        return part;
      }
      if (inAnchor > 0 || inPre > 0) {
        return part;
      }
      return part.replace(
        CITATION,
        (_m, file: string, line: string) =>
          `<a href="#" class="kura-cite" data-path="${file}" data-line="${line}" title="Open ${file} at line ${line}">${file}:${line}</a>`,
      );
    })
    .join('');
}

/** A cited path relative to `root`, or undefined when it would leave it (absolute, `..`). */
export function insideRoot(root: string, relative: string): string | undefined {
  if (!relative || relative.startsWith('/') || relative.startsWith('\\') || /^[A-Za-z]:/.test(relative)) {
    return undefined;
  }
  const parts = relative.split(/[\\/]/);
  if (parts.some((p) => p === '..')) {
    return undefined;
  }
  return `${root.replace(/[\\/]+$/, '')}/${parts.filter((p) => p && p !== '.').join('/')}`;
}
