/** Speed view: time per layer from the trace (when the engine reports it), sparse top-k vs dense on the same prompt. */
import { useState } from 'react';
import { useStore } from '../store.ts';
import { getEngine, report } from '../engine.ts';
import type { TokenTrace } from '../../worker/protocol.ts';
import { Explain } from './Explain.tsx';

const perLayer = (rows: TokenTrace[]) => rows[0]?.layers.map((_, l) => rows.reduce((a, r) => a + (r.layers[l]?.ms ?? 0), 0) / rows.length) ?? [];

export function SpeedView() {
  const analysis = useStore((s) => s.analysis);
  const [cmp, setCmp] = useState<{ sparse: number[]; dense: number[]; k: number } | undefined>();
  const [busy, setBusy] = useState(false);
  const measure = async () => {
    const s = useStore.getState();
    const text = s.classroom.prompt + s.classroom.appended.map((t) => t.text).join('');
    setBusy(true);
    try {
      const k = s.classroom.k;
      const sparse = await getEngine().trace(text, {}, k);
      const dense = await getEngine().trace(text, {}, 0);
      setCmp({ sparse: perLayer(sparse), dense: perLayer(dense), k });
    } catch (e) {
      report(e);
    } finally {
      setBusy(false);
    }
  };
  const current = analysis ? perLayer(analysis.rows) : [];
  const hasTimes = current.some((x) => x > 0) || cmp;
  const series = cmp ? [{ name: `sparse (k = ${cmp.k})`, v: cmp.sparse, cls: 'mla' }, { name: 'dense', v: cmp.dense, cls: 'mha' }] : [{ name: 'traced tokens', v: current, cls: 'mla' }];
  const max = Math.max(1e-9, ...series.flatMap((s) => s.v));
  return (
    <div className="view">
      <Explain topic="speed" />
      <div className="view-toolbar">
        <button data-testid="speed-measure" disabled={busy || useStore.getState().model.status !== 'ready'} onClick={() => void measure()}>
          {busy ? 'Measuring…' : 'Compare sparse vs dense on the classroom prompt'}
        </button>
      </div>
      {!hasTimes ? (
        <p className="empty">The engine reports no per-layer times yet (they need timestamp queries). Trace a prompt or run the comparison.</p>
      ) : (
        <figure className="bars" data-testid="speed-bars">
          <figcaption>
            <strong>Mean time per layer per token</strong> <span className="axes">ms, by layer</span>
          </figcaption>
          {series[0].v.map((_, l) => (
            <div key={l} className="bar-group">
              <span className="bar-label">layer {l}</span>
              <span className="bar-stack">
                {series.map((s) => (
                  <span key={s.name} className="bar-line">
                    <span className="bar-track">
                      <span className={`bar ${s.cls}`} style={{ width: `${(100 * s.v[l]) / max}%` }} />
                    </span>
                    <span className="bar-value">
                      {s.v[l].toFixed(3)} ms {series.length > 1 ? s.name : ''}
                    </span>
                  </span>
                ))}
              </span>
            </div>
          ))}
        </figure>
      )}
    </div>
  );
}
