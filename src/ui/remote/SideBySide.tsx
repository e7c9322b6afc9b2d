/**
 * Local and remote on the same prompt, side by side (the tiny DSA model in this page next to, say, the
 * real V3.2 behind a server): both replies stream at once with their own tokens/s and time to first
 * token. Uses the chat's sampling settings; Stop aborts both. Shown in the views' place while remote.
 */
import { useState } from 'react';
import { useStore } from '../store.ts';
import { getEngine, getLocalEngine, report } from '../engine.ts';
import type { EngineApi, GenerateRequest } from '../../api/protocol.ts';
import { localModelState } from './remote-actions.ts';
import { useRemote } from './remote-store.ts';

interface Column {
  text: string;
  status: 'idle' | 'streaming' | 'done' | 'stopped' | 'failed';
  tokensPerSecond?: number;
  timeToFirstTokenMs?: number;
  error?: string;
}

const IDLE: Column = { text: '', status: 'idle' };

export function SideBySide() {
  const active = useRemote((s) => s.active);
  const settings = useStore((s) => s.settings);
  const chatBusy = useStore((s) => s.generating);
  const [prompt, setPrompt] = useState('');
  const [cols, setCols] = useState<{ local: Column; remote: Column }>({ local: IDLE, remote: IDLE });
  const local = localModelState();
  const localReady = local?.status === 'ready' && !!getLocalEngine();
  const running = cols.local.status === 'streaming' || cols.remote.status === 'streaming';

  async function runOne(side: 'local' | 'remote', engine: EngineApi, req: GenerateRequest): Promise<void> {
    const patch = (p: Partial<Column>) => setCols((c) => ({ ...c, [side]: { ...c[side], ...p } }));
    patch({ ...IDLE, status: 'streaming' });
    try {
      await engine.generate(req, (e) => {
        if (e.kind === 'token') setCols((c) => ({ ...c, [side]: { ...c[side], text: c[side].text + e.text } }));
        else if (e.kind === 'done')
          patch({ status: e.reason === 'aborted' ? 'stopped' : 'done', tokensPerSecond: e.tokensPerSecond, timeToFirstTokenMs: e.timeToFirstTokenMs });
      });
    } catch (e) {
      patch({ status: 'failed', error: e instanceof Error ? e.message : String(e) });
    }
  }

  function run(): void {
    const { maxTokens, traceChat, ...sampling } = settings;
    void traceChat;
    const req: GenerateRequest = { messages: [{ role: 'user', content: prompt }], maxTokens, sampling };
    const localEngine = getLocalEngine();
    if (!localEngine) return report(new Error('The local engine is not running.'));
    void runOne('local', localEngine, req);
    void runOne('remote', getEngine(), req);
  }

  function stop(): void {
    void getLocalEngine()?.abort();
    void getEngine().abort();
  }

  const column = (side: 'local' | 'remote', title: string, c: Column) => (
    <div className="side" data-testid={`side-${side}`} data-status={c.status}>
      <h4>{title}</h4>
      <p className="side-text" data-testid={`side-${side}-text`}>
        {c.text}
      </p>
      {c.error && <p className="muted">{c.error}</p>}
      <p className="muted">
        {c.tokensPerSecond !== undefined ? `${c.tokensPerSecond.toFixed(1)} tok/s · first token ${c.timeToFirstTokenMs?.toFixed(0)} ms` : ' '}
      </p>
    </div>
  );

  return (
    <div className="side-by-side" data-testid="side-by-side">
      <h3>Side by side: local and remote, same prompt</h3>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (prompt.trim() && !running) run();
        }}
      >
        <input data-testid="side-prompt" value={prompt} placeholder="a prompt for both models" onChange={(e) => setPrompt(e.target.value)} />
        {running ? (
          <button type="button" data-testid="side-stop" onClick={stop}>
            Stop
          </button>
        ) : (
          <button type="submit" data-testid="side-run" disabled={!prompt.trim() || !localReady || chatBusy}>
            Run both
          </button>
        )}
      </form>
      {!localReady && <p className="muted">Load a local model first (use the local model, load one, then connect again).</p>}
      <div className="row">
        {column('local', `local: ${local?.summary?.name ?? 'no model'}`, cols.local)}
        {column('remote', `remote: ${active?.model ?? ''}`, cols.remote)}
      </div>
    </div>
  );
}
