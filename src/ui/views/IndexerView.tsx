/**
 * Indexer view: for the selected layer, index scores (query rows × key columns) with the chosen top-k
 * outlined, and dense attention for the same rows with the share of its mass inside the chosen set.
 * Hovering a token in the chat highlights its row and the tokens it picked in the context strip.
 */
import { useStore } from '../store.ts';
import { Heatmap } from './Heatmap.tsx';
import { LayerSelect } from './LayerSelect.tsx';
import { Explain } from './Explain.tsx';
import type { Analysis } from '../state/types.ts';
import { isDenseShape } from '../../api/protocol.ts';

/** Share of dense attention mass on the positions sparse attention kept. */
export function keptMass(dense: number[] | undefined, chosen: number[] | undefined): number {
  if (!dense || !chosen) return NaN;
  const total = dense.reduce((a, b) => a + b, 0);
  return total > 0 ? chosen.reduce((a, c) => a + (dense[c] ?? 0), 0) / total : NaN;
}

export function IndexerView({ compact }: { compact?: boolean }) {
  const analysis = useStore((s) => s.analysis);
  const layer = useStore((s) => s.layer);
  const hover = useStore((s) => s.hover);
  const summary = useStore((s) => s.model.summary);
  if (isDenseShape(summary?.shape)) {
    return (
      <div className="view">
        {!compact && <Explain topic="dsa" />}
        <p className="empty" data-testid="indexer-none">
          {summary!.name} ({summary!.arch}) has no lightning indexer: every layer attends densely over all past tokens (grouped-query attention). Load a
          DeepSeek-V3.2 (deepseek32) model to see sparse attention.
        </p>
      </div>
    );
  }
  if (!analysis || !analysis.rows.length) {
    return (
      <div className="view">
        {!compact && <Explain topic="dsa" />}
        <p className="empty">No trace yet. Chat with the model (with "trace" on) or open the Classroom to trace a prompt.</p>
      </div>
    );
  }
  const layers = analysis.rows[0].layers.length;
  const l = Math.min(layer, layers - 1);
  const rows = analysis.rows.map((r) => r.layers[l]);
  const hasIndexer = rows.some((r) => r.indexScores);
  const colLabels = analysis.tokens.map((t) => t.text);
  const rowLabels = analysis.rows.map((r) => r.token?.text ?? analysis.tokens[r.position]?.text ?? `#${r.position}`);
  const highlightRow = hover === undefined ? undefined : analysis.rows.findIndex((r) => r.position === hover);
  const kept = rows.map((r) => keptMass(r.denseWeights, r.chosen));
  const meanKept = kept.filter((x) => !Number.isNaN(x));
  return (
    <div className="view">
      {!compact && <Explain topic="dsa" />}
      <div className="view-toolbar">
        <LayerSelect layers={layers} />
        <span>
          {analysis.rows.length} query rows × {colLabels.length} keys · top-k {analysis.k === 0 ? 'dense' : (analysis.k ?? 'file default')}
          {meanKept.length > 0 && ` · dense mass kept ${(100 * (meanKept.reduce((a, b) => a + b, 0) / meanKept.length)).toFixed(1)} % on average`}
        </span>
      </div>
      <ContextStrip analysis={analysis} layer={l} hover={hover} />
      {hasIndexer ? (
        <div className="heatmap-pair">
          <Heatmap
            testId="indexer-heatmap"
            title={`Index scores, layer ${l}`}
            xLabel="key token"
            yLabel="query token"
            values={rows.map((r) => r.indexScores ?? [])}
            outlined={rows.map((r) => r.chosen ?? [])}
            rowLabels={rowLabels}
            colLabels={colLabels}
            normalize="row"
            highlightRow={highlightRow}
          />
          {rows.some((r) => r.denseWeights) && (
            <Heatmap
              testId="dense-heatmap"
              title={`Dense attention (sum over heads), layer ${l}`}
              xLabel="key token"
              yLabel="query token"
              values={rows.map((r) => r.denseWeights ?? [])}
              outlined={rows.map((r) => r.chosen ?? [])}
              rowLabels={rowLabels}
              colLabels={colLabels}
              normalize="row"
              highlightRow={highlightRow}
              side={{ label: 'mass kept', values: kept }}
            />
          )}
        </div>
      ) : (
        <p className="empty">Layer {l} has no lightning indexer (this model attends densely here).</p>
      )}
    </div>
  );
}

/** The whole context as the model saw it; the hovered query's picks are marked. */
function ContextStrip({ analysis, layer, hover }: { analysis: Analysis; layer: number; hover?: number }) {
  const row = hover === undefined ? undefined : analysis.rows.find((r) => r.position === hover);
  const picked = new Set(row?.layers[layer]?.chosen ?? []);
  return (
    <p className="context-strip" data-testid="context-strip" data-picked={row ? JSON.stringify([...picked]) : undefined}>
      {analysis.tokens.map((t, i) => (
        <span key={i} className={i === hover ? 'tok query' : picked.has(i) ? 'tok picked' : 'tok'}>
          {t.text}
        </span>
      ))}
      {!row && <em className="hint"> — hover a token in the chat (token view) or a row to see what it picked</em>}
    </p>
  );
}
