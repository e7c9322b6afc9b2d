/**
 * npm run --silent cli -- <command> ...
 *   inspect  <gguf> [--context N] [--binding-limit B] [--max-buffer B] [--gpu-memory B]
 *            → {"arch","config","fileBytes","parts"?,"memory","tensors":[{name,type,shape}]} (memory: src/model/memory-plan.ts)
 *   tokenize <gguf> <text>                            → [ids]
 *   logits   <gguf> --tokens 1,2,3 [--backend cpu|webgpu] [--threads N] [--index-top-k N] [--oracle-top-k K]   → {"logits":[[...],...]}
 *   generate <gguf> --prompt <text> [--max-tokens N] [--temperature T] [--seed S] [--top-k K] [--top-p P]
 *            [--min-p P] [--repeat-penalty R] [--backend ...] [--threads N] [--index-top-k N] [--oracle-top-k K] [--json]
 *   trace    <gguf> --prompt <text> [--threads N] [--index-top-k N] [--oracle-top-k K]  → {"tokens":[...],"trace":[...]}
 *   chat-prompt <gguf> --messages '[{"role":"user","content":"Hi"}]' [--thinking]   → the rendered prompt
 *            (stdout), which template or family format rendered it (stderr); a template that fails or
 *            runs past its bounds is a typed 'template' error with a non-zero exit
 * stdout carries only the JSON or the generated text; errors go to stderr with a non-zero exit.
 */
import { isSparseScopeError, SparseScopeError } from '../errors.ts';
import { openGguf, type GgufFile } from '../gguf/reader.ts';
import { typeName } from '../gguf/types.ts';
import { chatOptionsFor, renderChatPrompt, type ChatMessage } from '../model/chat-template.ts';
import { describeModel } from '../model/architectures/index.ts';
import { BASELINE_LIMITS, planMemory, type MemoryPlanOptions } from '../model/memory-plan.ts';
// The GPU sampler's CPU twin: the same seed draws the same tokens here, in the page and on either backend.
import { createReferenceSampler } from '../gpu/shaders/sampling/sampling.ref.ts';
import { createTokenizer, type Tokenizer } from '../model/tokenizer/index.ts';
import { BACKENDS, createBackend, type BackendKind } from './backend.ts';
import type { TokenTrace } from '../model/reference/forward.ts';

const USAGE = `usage: npm run --silent cli -- <command>
  inspect  <gguf> [--context N] [--binding-limit BYTES] [--max-buffer BYTES] [--gpu-memory BYTES]
  tokenize <gguf> <text>
  logits   <gguf> --tokens 1,2,3 [--backend cpu|webgpu] [--threads N] [--index-top-k N] [--oracle-top-k K]
  generate <gguf> --prompt <text> [--max-tokens N] [--temperature T] [--seed S] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--backend cpu|webgpu] [--threads N] [--index-top-k N] [--oracle-top-k K] [--json]
  trace    <gguf> --prompt <text> [--threads N] [--index-top-k N] [--oracle-top-k K]
  chat-prompt <gguf> --messages '<json: [{"role", "content"}]>' [--thinking]`;

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

const BOOLEAN_FLAGS = new Set(['json', 'help', 'thinking']);

export function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
      if (BOOLEAN_FLAGS.has(name)) flags.set(name, true);
      else {
        const v = inline ?? argv[++i];
        if (v === undefined) throw new SparseScopeError('bad-argument', `--${name} needs a value`);
        flags.set(name, v);
      }
    } else positional.push(a);
  }
  return { positional, flags };
}

function str(a: Args, name: string): string | undefined {
  const v = a.flags.get(name);
  return v === true ? undefined : v;
}

function num(a: Args, name: string, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  const v = str(a, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw new SparseScopeError(
      'bad-argument',
      `--${name} ${v}: expected ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}`,
    );
  }
  return n;
}

function backendKind(a: Args): BackendKind {
  const b = str(a, 'backend') ?? 'cpu';
  if (!(BACKENDS as readonly string[]).includes(b)) throw new SparseScopeError('bad-argument', `--backend ${b}: supported: ${BACKENDS.join(', ')}`);
  return b as BackendKind;
}

/** --threads N: the CPU backend's matmul threads (default: the machine's cores, capped at 8). */
function backendOptions(a: Args): { threads?: number } {
  return { threads: num(a, 'threads', { integer: true, min: 1 }) };
}

function needGguf(a: Args): string {
  const p = a.positional[1];
  if (p === undefined) throw new SparseScopeError('bad-argument', `missing <gguf> path\n${USAGE}`);
  return p;
}

function tokenizerOf(f: GgufFile): Tokenizer {
  return createTokenizer(f.metadata);
}

/** Prompt ids as llama.cpp makes them: BOS when the file asks for it, control tokens parsed. */
function promptIds(tok: Tokenizer, text: string): number[] {
  const ids = tok.encode(text, { addSpecial: true, parseSpecial: true });
  if (ids.length === 0) throw new SparseScopeError('bad-argument', 'the prompt encodes to no tokens');
  return ids;
}

const write = (s: string) => process.stdout.write(s);

/** --messages: a JSON array of {role, content} strings. */
function chatMessages(json: string | undefined): ChatMessage[] {
  if (json === undefined) throw new SparseScopeError('bad-argument', `chat-prompt needs --messages '[{"role":"user","content":"Hi"}]'`);
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new SparseScopeError('bad-argument', `--messages is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || !v.every((m) => typeof m === 'object' && m !== null && typeof m.role === 'string' && typeof m.content === 'string')) {
    throw new SparseScopeError('bad-argument', '--messages must be a JSON array of {"role": string, "content": string}');
  }
  return v.map((m: ChatMessage) => ({ role: m.role, content: m.content }));
}

/** inspect's plan: --context N, and a device as --binding-limit / --max-buffer / --gpu-memory (bytes). */
function inspectPlanOptions(a: Args): MemoryPlanOptions {
  const bytes = (name: string, fallback?: number): number | undefined => {
    const v = str(a, name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new SparseScopeError('bad-argument', `--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  const binding = bytes('binding-limit', BASELINE_LIMITS.maxStorageBufferBindingSize)!;
  return {
    context: bytes('context'),
    limits: {
      maxStorageBufferBindingSize: binding,
      maxBufferSize: bytes('max-buffer', Math.max(binding, BASELINE_LIMITS.maxBufferSize))!,
      memoryBytes: bytes('gpu-memory'),
    },
  };
}

async function run(argv: string[]): Promise<void> {
  const a = parseArgs(argv);
  const cmd = a.positional[0];
  if (cmd === undefined || a.flags.has('help')) {
    process.stderr.write(`${USAGE}\n`);
    if (cmd === undefined) process.exitCode = 2;
    return;
  }
  if (!['inspect', 'tokenize', 'logits', 'generate', 'trace', 'chat-prompt'].includes(cmd))
    throw new SparseScopeError('bad-argument', `unknown command "${cmd}"\n${USAGE}`);
  const f = await openGguf({ kind: 'path', path: needGguf(a) });
  try {
    switch (cmd) {
      case 'inspect': {
        // header and tensor infos only: no tensor byte is read (a 10 GB file answers at once)
        // any architecture (MLA or dense), with the WebGPU graph's memory plan
        const d = describeModel(f.metadata, f.tensors);
        const config = d.config;
        const memory = planMemory(d.config, f.tensors, inspectPlanOptions(a));
        const parts = f.parts.length > 1 ? { parts: f.parts } : {};
        write(
          `${JSON.stringify({ arch: config.arch, family: d.kind, config, fileBytes: f.fileSize, ...parts, memory, tensors: f.tensors.map((t) => ({ name: t.name, type: typeName(t.type), shape: t.shape })) })}\n`,
        );
        return;
      }
      case 'chat-prompt': {
        const messages = chatMessages(str(a, 'messages'));
        const tok = tokenizerOf(f);
        const template = typeof f.metadata['tokenizer.chat_template'] === 'string' ? (f.metadata['tokenizer.chat_template'] as string) : undefined;
        const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
        const model = { arch: text(f.metadata['general.architecture']), name: text(f.metadata['general.name']) ?? text(f.metadata['general.basename']) };
        const r = renderChatPrompt(template, messages, { ...chatOptionsFor(tok, model), thinking: a.flags.has('thinking') });
        // the file's template failed: refuse, as the page warns (it falls back so the chat goes on)
        if (r.error) throw new SparseScopeError('template', `${r.error.message} (the page would fall back to the ${r.label} format)`);
        const mode = r.thinking ? ', thinking' : '';
        if (r.source === 'file') process.stderr.write(`template: the file's tokenizer.chat_template${mode}\n`);
        else process.stderr.write(`template: ${r.source}${mode} (${r.warning ?? `no template in the file; ${r.label} format from ${r.reason}`})\n`);
        write(r.text);
        return;
      }
      case 'tokenize': {
        const text = a.positional[2];
        if (text === undefined) throw new SparseScopeError('bad-argument', 'tokenize needs <text>');
        write(`${JSON.stringify(tokenizerOf(f).encode(text, { parseSpecial: true }))}\n`);
        return;
      }
      case 'logits': {
        const list = str(a, 'tokens');
        if (list === undefined) throw new SparseScopeError('bad-argument', 'logits needs --tokens 1,2,3');
        const tokens = list.split(',').map((s) => {
          const n = Number(s.trim());
          if (s.trim() === '' || !Number.isInteger(n) || n < 0) throw new SparseScopeError('bad-argument', `--tokens: "${s}" is not a token id`);
          return n;
        });
        const backend = await createBackend(backendKind(a), f, tokens.length, backendOptions(a));
        try {
          const s = backend.session({
            indexTopK: num(a, 'index-top-k', { integer: true, min: 0 }),
            oracleTopK: num(a, 'oracle-top-k', { integer: true, min: 0 }),
          });
          const { logits } = await s.feed(tokens, { allLogits: true });
          write('{"logits":[');
          logits.forEach((row, i) => write(`${i ? ',' : ''}[${Array.from(row).join(',')}]`));
          write(']}\n');
        } finally {
          backend.close();
        }
        return;
      }
      case 'generate': {
        const prompt = str(a, 'prompt');
        if (prompt === undefined) throw new SparseScopeError('bad-argument', 'generate needs --prompt <text>');
        const tok = tokenizerOf(f);
        const maxTokens = num(a, 'max-tokens', { integer: true, min: 0 }) ?? 64;
        const ids = promptIds(tok, prompt);
        const backend = await createBackend(backendKind(a), f, ids.length + maxTokens, backendOptions(a));
        try {
          const sampler = createReferenceSampler({
            temperature: num(a, 'temperature', { min: 0 }) ?? 0.8,
            seed: num(a, 'seed', { integer: true }) ?? 0,
            topK: num(a, 'top-k', { integer: true, min: 0 }),
            topP: num(a, 'top-p'),
            minP: num(a, 'min-p'),
            repetitionPenalty: num(a, 'repeat-penalty'),
          });
          const s = backend.session({
            indexTopK: num(a, 'index-top-k', { integer: true, min: 0 }),
            oracleTopK: num(a, 'oracle-top-k', { integer: true, min: 0 }),
          });
          if (ids.length + maxTokens > backend.config.contextLength) {
            throw new SparseScopeError(
              'context-overflow',
              `prompt (${ids.length}) + --max-tokens (${maxTokens}) exceed the context length ${backend.config.contextLength}`,
            );
          }
          let logits = (await s.feed(ids)).logits[0];
          const history = [...ids];
          const out: number[] = [];
          const json = a.flags.has('json');
          const dec = tok.createStreamDecoder();
          for (let i = 0; i < maxTokens; i++) {
            const next = sampler.sample(logits, history);
            if (tok.stopIds.has(next)) break;
            out.push(next);
            history.push(next);
            if (!json) write(dec.push(next));
            if (i + 1 < maxTokens) logits = (await s.feed([next])).logits[0];
          }
          if (json) write(`${JSON.stringify({ tokens: out, text: tok.decode(out) })}\n`);
          else write(`${dec.flush()}\n`);
        } finally {
          backend.close();
        }
        return;
      }
      case 'trace': {
        const prompt = str(a, 'prompt');
        if (prompt === undefined) throw new SparseScopeError('bad-argument', 'trace needs --prompt <text>');
        const tok = tokenizerOf(f);
        const ids = promptIds(tok, prompt);
        const backend = await createBackend(backendKind(a), f, ids.length, backendOptions(a));
        let trace: TokenTrace[];
        try {
          trace = (
            await backend
              .session({
                indexTopK: num(a, 'index-top-k', { integer: true, min: 0 }),
                oracleTopK: num(a, 'oracle-top-k', { integer: true, min: 0 }),
                trace: true,
              })
              .feed(ids)
          ).trace!;
        } finally {
          backend.close();
        }
        write(`${JSON.stringify({ tokens: ids, pieces: ids.map((t) => tok.decode([t], { special: true })), trace })}\n`);
        return;
      }
    }
  } finally {
    await f.close();
  }
}

// `| head` closing the pipe is not an error
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

run(process.argv.slice(2)).catch((e: unknown) => {
  const msg = isSparseScopeError(e) ? `error [${e.code}]: ${e.message}` : `error: ${(e as Error).stack ?? String(e)}`;
  process.stderr.write(`${msg}\n`);
  process.exitCode = 1;
});
