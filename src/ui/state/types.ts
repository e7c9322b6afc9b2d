/** Shapes of the UI's state that more than one slice or component shares. */
import type { LoadEvent, ModelSummary, SamplingOptions, StepResult, TokenText, TokenTrace } from '../../api/protocol.ts';
import type { Verdict } from '../models/verdict.ts';

export type Role = 'system' | 'user' | 'assistant';

export interface ChatToken {
  text: string;
  /** Absolute position in the model's context, when the engine reported a trace for it. */
  position?: number;
}

export interface Message {
  id: string;
  role: Role;
  content: string;
  /** Assistant messages: the streamed tokens, so the chat can show and hover them one by one. */
  tokens?: ChatToken[];
  status?: 'streaming' | 'done' | 'stopped' | 'interrupted';
  stats?: { tokens: number; tokensPerSecond: number; timeToFirstTokenMs: number };
}

export interface Conversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messages: Message[];
}

export interface Settings extends SamplingOptions {
  maxTokens: number;
  /** Ask the engine for per-token traces while chatting (costs GPU read-backs). */
  traceChat: boolean;
}

export type ModelStatus = 'none' | 'downloading' | 'loading' | 'ready' | 'failed';

export interface Progress {
  phase: 'download' | 'load';
  loaded: number;
  total: number;
  bytesPerSecond: number;
  secondsLeft: number;
  /** performance.now() of this phase's first progress event (the rate's start) */
  startedAt?: number;
}

export interface ModelState {
  status: ModelStatus;
  label?: string;
  summary?: ModelSummary;
  header?: Extract<LoadEvent, { kind: 'header' }>;
  progress?: Progress;
  verdict?: Verdict;
  message?: string;
}

/** What the views draw: all context tokens (columns) and the traced query rows. */
export interface Analysis {
  source: 'chat' | 'classroom';
  tokens: TokenText[];
  rows: TokenTrace[];
  /** The top-k the rows were traced with (undefined = the file's, 0 = dense). */
  k?: number;
}

export type { ViewName } from '../views/view-list.ts';

export interface Classroom {
  prompt: string;
  k: number;
  dense: boolean;
  appended: TokenText[];
  result?: StepResult;
  busy: boolean;
}

/** Live generation figures: written per token, read by transient subscribers (no re-render). */
export interface Metrics {
  startedAt: number;
  firstTokenAt: number;
  lastAt: number;
  tokens: number;
}
