/** What the status bar item shows, as a pure function of the server state and `kura/status`. */
import { modelName as nameOf, type KuraStatus } from './protocol';

export type ServerState = 'starting' | 'running' | 'restarting' | 'stopped' | 'not found';

export interface StatusView {
  text: string;
  tooltip: string;
  error: boolean;
}

/** Pure: what the item shows for a server state and the last `kura/status`. */
export function describe(serverState: ServerState, serverMessage: string, s: KuraStatus | undefined): StatusView {
  if (serverState === 'not found') {
    return { text: '$(error) kura', tooltip: `**kura server not found**\n\n${serverMessage}`, error: true };
  }
  if (serverState === 'stopped') {
    return { text: '$(debug-stop) kura', tooltip: `**kura server stopped**${serverMessage ? `\n\n${serverMessage}` : ''}\n\nClick for details.`, error: true };
  }
  if (serverState === 'restarting') {
    return { text: '$(sync~spin) kura', tooltip: `kura server restarting${serverMessage ? `: ${serverMessage}` : ''}`, error: false };
  }
  if (serverState === 'starting' || !s) {
    return { text: '$(loading~spin) kura', tooltip: 'kura server starting…', error: false };
  }
  const lines: string[] = [];
  const model = s.model ?? {};
  const modelName = nameOf(model);
  lines.push(`**Model:** ${modelName} (${model.backend ?? s.backend ?? '?'}) — ${model.state ?? 'unknown'}${model.error ? `: ${model.error}` : ''}`);
  const index = s.index ?? {};
  let indexText = index.state ?? 'unknown';
  let icon = '$(sparkle)';
  let shortIndex = '';
  if (index.state === 'indexing') {
    const done = index.progress?.done ?? 0;
    const total = index.progress?.total ?? 0;
    const pct = total ? Math.floor((100 * done) / total) : 0;
    indexText = total ? `indexing ${done}/${total} files (${pct}%)` : 'indexing';
    icon = '$(sync~spin)';
    shortIndex = total ? ` ${pct}%` : '';
  } else if (index.state === 'ready') {
    indexText = `up to date — ${plural(index.files ?? 0, 'file')}, ${plural(index.symbols ?? 0, 'symbol')}`;
  } else if (index.state === 'error') {
    indexText = `error${index.error ? `: ${index.error}` : ''}`;
  }
  lines.push(`**Index:** ${indexText}${index.root ? ` (${index.root})` : ''}`);
  const enabled = s.completionsEnabled !== false;
  lines.push(`**Completions:** ${enabled ? 'on' : 'off'}`);
  if (s.lastError) {
    lines.push(`**Last error:** ${s.lastError}`);
  }
  lines.push('', 'Click for details and actions.');
  const error = index.state === 'error' || model.state === 'error';
  if (error) {
    icon = '$(error)';
  } else if (model.state === 'restarting') {
    // The model process crashed and the server is restarting it; everything else keeps working.
    icon = '$(sync~spin)';
    shortIndex = ' model restarting';
  } else if (!enabled) {
    icon = '$(circle-slash)';
  } else if (s.lastError && index.state !== 'indexing') {
    icon = '$(warning)';
  }
  return { text: `${icon} kura${shortIndex}`, tooltip: lines.join('\n\n'), error };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
