/** Experts view: tokens × experts for the selected MoE layer (colour = gate weight), the shared expert, and the load histogram. */
import { useEffect, useRef } from 'react';
import { useStore } from '../store.ts';
import { Heatmap } from './Heatmap.tsx';
import { LayerSelect } from './LayerSelect.tsx';
import { Explain } from './Explain.tsx';
import { isDenseShape } from '../../api/protocol.ts';

export function ExpertsView() {
  const analysis = useStore((s) => s.analysis);
  const layer = useStore((s) => s.layer);
  const shape = useStore((s) => s.model.summary?.shape);
  const setLayer = useStore((s) => s.setLayer);
  // The first layers of DeepSeek models are dense: opening on one would show no heatmap. On opening (and on
  // each new trace) a dense selection moves to the first MoE layer; the user may still pick a dense one after.
  const jumpedFor = useRef<unknown>(undefined);
  useEffect(() => {
    const first = analysis?.rows[0]?.layers;
    if (!first || jumpedFor.current === analysis) return;
    jumpedFor.current = analysis;
    const firstMoe = first.findIndex((l) => l.routerProbs !== undefined);
    if (firstMoe >= 0 && first[Math.min(layer, first.length - 1)]?.routerProbs === undefined) setLayer(firstMoe);
  }, [analysis, layer, setLayer]);
  const summary = useStore((s) => s.model.summary);
  if (isDenseShape(shape)) {
    return (
      <div className="view">
        <Explain topic="moe" />
        <p className="empty" data-testid="experts-none">
          {summary?.name} ({summary?.arch}) has no experts: every layer runs one dense SwiGLU feed-forward block ({shape.ffn.toLocaleString()} wide). Load a
          DeepSeek (MoE) model to see routing.
        </p>
      </div>
    );
  }
  if (!analysis?.rows.length) {
    return (
      <div className="view">
        <Explain topic="moe" />
        <p className="empty">No trace yet. Chat or open the Classroom to trace a prompt.</p>
      </div>
    );
  }
  const layers = analysis.rows[0].layers.length;
  const l = Math.min(layer, layers - 1);
  const rows = analysis.rows.map((r) => r.layers[l]);
  const isMoe = (i: number) => analysis.rows[0].layers[i]?.routerProbs !== undefined;
  const nExperts = rows.find((r) => r.routerProbs)?.routerProbs?.length ?? 0;
  const shared = shape?.sharedExperts ?? 0;
  const rowLabels = analysis.rows.map((r) => r.token?.text ?? analysis.tokens[r.position]?.text ?? `#${r.position}`);
  // Gate weight where the router chose the expert, 0 elsewhere; the shared expert always runs at weight 1.
  const values = rows.map((r) => {
    const v = new Array<number>(nExperts).fill(0);
    r.experts?.forEach((e, j) => (v[e] = r.expertWeights?.[j] ?? 0));
    return shared ? [...v, 1] : v;
  });
  const load = new Array<number>(nExperts).fill(0);
  rows.forEach((r) => r.experts?.forEach((e) => load[e]++));
  const maxLoad = Math.max(1, ...load);
  const colLabels = [...Array.from({ length: nExperts }, (_, e) => `E${e}`), ...(shared ? ['shared'] : [])];
  return (
    <div className="view">
      <Explain topic="moe" />
      <div className="view-toolbar">
        <LayerSelect layers={layers} note={(i) => (isMoe(i) ? '(MoE)' : '(dense FFN)')} />
      </div>
      {nExperts === 0 ? (
        <p className="empty">Layer {l} uses a dense feed-forward block (the first layers of DeepSeek models are dense). Pick an MoE layer.</p>
      ) : (
        <div className="heatmap-pair">
          <Heatmap
            testId="expert-heatmap"
            title={`Router gate weights, layer ${l}`}
            xLabel="expert"
            yLabel="token"
            values={values}
            outlined={rows.map((r) => r.experts ?? [])}
            rowLabels={rowLabels}
            colLabels={colLabels}
            normalize="global"
            maxWidth={420}
          />
          <figure className="histogram" data-testid="expert-load" data-load={JSON.stringify(load)}>
            <figcaption>
              <strong>Expert load, layer {l}</strong> <span className="axes">tokens routed to each expert</span>
            </figcaption>
            {load.map((n, e) => (
              <div key={e} className="hist-row">
                <span className="hist-label">E{e}</span>
                <span className="hist-bar" style={{ width: `${(100 * n) / maxLoad}%` }} />
                <span className="hist-n">{n}</span>
              </div>
            ))}
          </figure>
        </div>
      )}
    </div>
  );
}
