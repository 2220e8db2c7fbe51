/** The server's custom protocol (docs/architecture.md, "The protocol surface editors use"). */
import type { Range, WorkspaceEdit } from 'vscode-languageclient/node';

export const STATUS_REQUEST = 'kura/status';
export const EXPLANATION_NOTIFICATION = 'kura/explanation';
export const DID_DISMISS_COMPLETION = 'kura/didDismissCompletion';
/** A suggestion finished after its request was answered empty: ask again, the cache has it. */
export const SUGGESTION_READY_NOTIFICATION = 'kura/suggestionReady';
/** The cursor came to rest: the server warms the model's cache for a completion there. */
export const CURSOR_NOTIFICATION = 'kura/cursorMoved';
export const ANSWER_NOTIFICATION = 'kura/answer';
export const GENERATION_NOTIFICATION = 'kura/generation';

/** Server-side commands, run with `workspace/executeCommand`. */
export const ServerCommand = {
  explain: 'kura.explain',
  fix: 'kura.fix',
  explainCloud: 'kura.explainCloud',
  fixCloud: 'kura.fixCloud',
  previewEscalation: 'kura.previewEscalation',
  reindex: 'kura.reindex',
  toggleCompletions: 'kura.toggleCompletions',
  didAcceptCompletion: 'kura.didAcceptCompletion',
  didApplyFix: 'kura.didApplyFix',
  ask: 'kura.ask',
  askCloud: 'kura.askCloud',
  generate: 'kura.generate',
  generateCloud: 'kura.generateCloud',
  didResolveGeneration: 'kura.didResolveGeneration',
} as const;

export interface ModelStatus {
  state?: string;
  name?: string;
  backend?: string;
  path?: string;
  fim?: string | boolean | null;
  error?: string | null;
  // What the server sends today besides the documented keys (backend info, snake_case).
  description?: string;
  model_name?: string;
  model_path?: string;
}

/** The model's display name, whichever keys the server filled in. */
export function modelName(m: ModelStatus): string {
  const path = m.path || m.model_path || '';
  const file = path && path !== '(embedded)' ? path.split(/[\\/]/).pop() : '';
  return m.name || m.model_name || file || m.description || 'embedded model';
}

export interface IndexStatus {
  state?: string; // not started | indexing | ready | unavailable | error
  root?: string | null;
  files?: number;
  symbols?: number;
  chunks?: number;
  lastUpdate?: number | null;
  progress?: { done?: number; total?: number } | null;
  error?: string;
}

export interface KuraStatus {
  version?: string;
  model?: ModelStatus;
  backend?: string;
  completionsEnabled?: boolean;
  index?: IndexStatus;
  lastError?: string | null;
  lastErrorAt?: number | null;
  settings?: unknown;
}

export interface LocatedParams {
  uri: string;
  range: Range;
}

export interface ExplainResult {
  id: string;
  markdown: string;
  /** Set when nothing could be explained (bad target, no model); already shown by the server. */
  error?: string;
}

export interface FixResult {
  id: string;
  edit: WorkspaceEdit | null;
  message: string;
  error?: string;
}

export interface EscalationPreview {
  decision: string;
  reason: string;
  payload: string;
  redactions: { rule: string; kind: string; line: number }[];
}

export interface ReindexResult {
  files: number;
  parsed: number;
  seconds: number;
}

export interface ExplanationChunk {
  id: string;
  uri: string;
  chunk: string;
  done: boolean;
  cloud: boolean;
}

/** One place an answer of `kura.ask` relies on (1-based lines; `uri` when the server knows the root). */
export interface Citation {
  path: string;
  line: number;
  endLine: number;
  kind: string;
  symbol: string;
  label: string;
  uri?: string;
}

export interface AskResult {
  id: string;
  found: boolean;
  markdown: string;
  answer: string;
  citations: Citation[];
  error?: string;
  /** kura.askCloud: true when the cloud model answered (false: it failed and the local model did). */
  cloud?: boolean;
}

export interface AnswerChunk {
  id: string;
  chunk: string;
  done: boolean;
  cloud: boolean;
  reason?: string;
}

/** `kura.generate` → the proposed edit (none: `message` says why). */
export interface GenerateResult {
  id: string;
  mode: 'edit' | 'insert' | null;
  edit: WorkspaceEdit | null;
  message: string;
  cloud?: boolean;
  cloudError?: string;
}

/** `kura/generation`: the model's text while a generation runs. */
export interface GenerationChunk {
  id: string;
  uri: string;
  chunk: string;
  done: boolean;
  reason?: string;
}
