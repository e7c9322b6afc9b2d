/**
 * Speed view: per-layer decode time, sparse (the classroom's top-k) against dense attention on the
 * classroom prompt, from EngineApi.profile. Each layer's bar is split into the attention core, the
 * lightning indexer, the FFN and the rest (norms, projections, cache writes); the caption names how
 * the times were measured (GPU timestamps, or submit-and-wait on the CPU clock as a fallback).
 */
import { useState } from 'react';
import { useStore } from '../store.ts';
import { getEngine, report } from '../engine.ts';
import type { LayerTiming, ProfileResult, TimingMethod } from '../../api/protocol.ts';
import { Explain } from './Explain.tsx';

const METHOD_LABEL: Record<TimingMethod, string> = {
  // Browsers may round timestamps (Chrome: to 0.1 ms unless its WebGPU developer features are on).
  'timestamp-query': 'GPU timestamps between passes (timestamp-query; a browser may round them to 0.1 ms)',
  'cpu-submit-wait': 'no timestamp-query on this adapter: each part submitted alone and timed on the CPU clock (includes submit latency)',
};

const PARTS = [
  { key: 'attentionMs', name: 'attention', color: '#21918c' },
  { key: 'indexerMs', name: 'indexer', color: '#fde725' },
  { key: 'ffnMs', name: 'FFN', color: '#3b528b' },
] as const;

const rest = (l: LayerTiming) => Math.max(0, l.ms - l.attentionMs - l.indexerMs - l.ffnMs);

function LayerBar({ l, max, label }: { l: LayerTiming; max: number; label: string }) {
  const segs = [...PARTS.map((p) => ({ name: p.name, color: p.color, v: l[p.key] })), { name: 'rest', color: '#c8ccd4', v: rest(l) }];
  return (
    <span className="bar-line">
      <span className="bar-track" style={{ display: 'flex', overflow: 'hidden' }}>
        {segs.map((s) => (
          <span key={s.name} title={`${s.name}: ${s.v.toFixed(3)} ms`} style={{ width: `${(100 * s.v) / max}%`, background: s.color, height: '100%' }} />
        ))}
      </span>
      <span className="bar-value">
        {l.ms.toFixed(3)} ms {label} <small>(attn {l.attentionMs.toFixed(3)})</small>
      </span>
    </span>
  );
}

export function SpeedView() {
  const speed = useStore((s) => s.speed);
  const ready = useStore((s) => s.model.status === 'ready');
  const [busy, setBusy] = useState(false);
  // Optional in the protocol: an engine without it (the FakeEngine test double) gets a disabled button, not a silent one.
  const canProfile = getEngine().profile !== undefined;
  const measure = async () => {
    const s = useStore.getState();
    const engine = getEngine();
    if (!engine.profile) return;
    const prompt = s.classroom.prompt + s.classroom.appended.map((t) => t.text).join('');
    setBusy(true);
    try {
      const sparse: ProfileResult = await engine.profile({ prompt, indexTopK: s.classroom.k, steps: 8 });
      const dense: ProfileResult = await engine.profile({ prompt, indexTopK: 0, steps: 8 });
      s.setSpeed({ sparse, dense });
    } catch (e) {
      report(e);
    } finally {
      setBusy(false);
    }
  };
  const runs = speed
    ? [
        { r: speed.sparse, label: `sparse k=${speed.sparse.indexTopK}` },
        { r: speed.dense, label: 'dense' },
      ]
    : [];
  const max = Math.max(1e-9, ...runs.flatMap(({ r }) => r.layers.map((l) => l.ms)));
  const sum = (r: ProfileResult, f: (l: LayerTiming) => number) => r.layers.reduce((a, l) => a + f(l), 0);
  return (
    <div className="view">
      <Explain topic="speed" />
      <div className="view-toolbar">
        <button
          data-testid="speed-measure"
          disabled={busy || !ready || !canProfile}
          title={canProfile ? undefined : 'this engine does not time its layers'}
          onClick={() => void measure()}
        >
          {busy ? 'Measuring…' : 'Time decode steps per layer: sparse (classroom k) vs dense'}
        </button>
      </div>
      {!speed ? (
        <p className="empty">Times 8 decode steps after the classroom prompt, layer by layer, once with the indexer's top-k and once dense.</p>
      ) : (
        <figure className="bars" data-testid="speed-bars">
          <figcaption>
            <strong>Mean time per layer per decode step</strong>{' '}
            <span className="axes">
              ms, at position {speed.sparse.position}, {speed.sparse.steps} steps
            </span>
            <br />
            <small data-testid="speed-method">Measured with {METHOD_LABEL[speed.sparse.method]}.</small>
            <br />
            <small>
              {PARTS.map((p) => (
                <span key={p.name} style={{ marginRight: 12 }}>
                  <span style={{ display: 'inline-block', width: 10, height: 10, background: p.color, marginRight: 4 }} />
                  {p.name}
                </span>
              ))}
              <span style={{ display: 'inline-block', width: 10, height: 10, background: '#c8ccd4', marginRight: 4 }} />
              norms, projections, cache writes
            </small>
          </figcaption>
          {speed.sparse.layers.map((l, i) => (
            <div key={i} className="bar-group">
              <span className="bar-label">layer {i}</span>
              <span className="bar-stack">
                {runs.map(({ r, label }) => (
                  <LayerBar key={label} l={r.layers[i]} max={max} label={label} />
                ))}
              </span>
            </div>
          ))}
          <p>
            {runs.map(({ r, label }) => (
              <span key={label} style={{ marginRight: 16 }}>
                {label}: {r.totalMs.toFixed(2)} ms/step, attention {sum(r, (l) => l.attentionMs).toFixed(2)} ms, indexer {sum(r, (l) => l.indexerMs).toFixed(2)}{' '}
                ms
              </span>
            ))}
          </p>
        </figure>
      )}
    </div>
  );
}
