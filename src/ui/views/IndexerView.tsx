/**
 * Indexer view: for the selected layer, index scores (query rows × key columns) with the chosen top-k
 * outlined, dense attention for the same rows with the share of its mass inside the chosen set, and the
 * oracle's top-k of those dense weights with the indexer's recall of it per row (how many of the true
 * top-k the lightning indexer found). On a model without an indexer, an oracle run's picks outlined on
 * dense attention. Hovering a token in the chat highlights its row and the tokens it picked in the context strip.
 */
import { useStore } from '../store.ts';
import { Heatmap } from './Heatmap.tsx';
import { LayerSelect } from './LayerSelect.tsx';
import { Explain } from './Explain.tsx';
import type { Analysis } from '../state/types.ts';
import { indexerRecall, oracleTopK } from '../../model/reference/oracle-topk.ts';

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
  const noIndexer = summary !== undefined && summary.indexTopK === undefined;
  if (!analysis || !analysis.rows.length) {
    return (
      <div className="view">
        {!compact && <Explain topic="dsa" />}
        <p className="empty" data-testid={noIndexer ? 'indexer-none' : undefined}>
          {noIndexer
            ? `${summary!.name} (${summary!.arch}) has no lightning indexer: every layer attends densely. Open the Classroom: its top-k runs the oracle (the k past tokens dense attention weights most) on any model.`
            : 'No trace yet. Chat with the model (with "trace" on) or open the Classroom to trace a prompt.'}
        </p>
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
  // the positions attention ran over: the indexer's picks, else an oracle run's
  const picked = rows.map((r) => r.chosen ?? r.oracle);
  const kept = rows.map((r, i) => keptMass(r.denseWeights, picked[i]));
  const meanKept = kept.filter((x) => !Number.isNaN(x));
  // with the indexer: the oracle's picks for the same k (the top-k of these dense weights) and how many the indexer found
  const oracle = hasIndexer ? rows.map((r) => (r.denseWeights && r.chosen ? oracleTopK(r.denseWeights, r.chosen.length) : [])) : undefined;
  const recall = oracle ? rows.map((r, i) => (r.chosen && r.denseWeights ? indexerRecall(r.chosen, oracle[i]) : NaN)) : undefined;
  const meanRecall = recall?.filter((x) => !Number.isNaN(x));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const selector = hasIndexer ? 'indexer' : rows.some((r) => r.oracle) ? 'oracle' : 'dense';
  return (
    <div className="view">
      {!compact && <Explain topic="dsa" />}
      <div className="view-toolbar">
        <LayerSelect layers={layers} />
        <span data-testid="indexer-summary" data-selector={selector}>
          {analysis.rows.length} query rows × {colLabels.length} keys · {selector === 'oracle' ? 'oracle ' : ''}top-k{' '}
          {analysis.k === 0 ? 'dense' : (analysis.k ?? 'file default')}
          {meanKept.length > 0 && ` · dense mass kept ${(100 * mean(meanKept)).toFixed(1)} % on average`}
          {meanRecall && meanRecall.length > 0 && ` · indexer recall of the oracle's picks ${(100 * mean(meanRecall)).toFixed(1)} %`}
        </span>
      </div>
      <ContextStrip analysis={analysis} layer={l} hover={hover} />
      <div className="heatmap-pair">
        {hasIndexer && (
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
        )}
        {rows.some((r) => r.denseWeights) && (
          <Heatmap
            testId="dense-heatmap"
            title={`Dense attention (sum over heads), layer ${l}${selector === 'oracle' ? ": the oracle's top-k outlined" : ''}`}
            xLabel="key token"
            yLabel="query token"
            values={rows.map((r) => r.denseWeights ?? [])}
            outlined={picked.map((p) => p ?? [])}
            rowLabels={rowLabels}
            colLabels={colLabels}
            normalize="row"
            highlightRow={highlightRow}
            side={{ label: 'mass kept', values: kept }}
          />
        )}
        {oracle && recall && rows.some((r) => r.denseWeights) && (
          <Heatmap
            testId="oracle-heatmap"
            title={`The oracle's top-k of the same dense weights, layer ${l}`}
            xLabel="key token"
            yLabel="query token"
            values={rows.map((r) => r.denseWeights ?? [])}
            outlined={oracle}
            rowLabels={rowLabels}
            colLabels={colLabels}
            normalize="row"
            highlightRow={highlightRow}
            side={{ label: 'recall', values: recall }}
          />
        )}
      </div>
      {!hasIndexer && selector === 'dense' && <p className="empty">Layer {l} attends densely here (no indexer; the oracle is off at k = 0).</p>}
    </div>
  );
}

/** The whole context as the model saw it; the hovered query's picks are marked. */
function ContextStrip({ analysis, layer, hover }: { analysis: Analysis; layer: number; hover?: number }) {
  const row = hover === undefined ? undefined : analysis.rows.find((r) => r.position === hover);
  const picked = new Set(row?.layers[layer]?.chosen ?? row?.layers[layer]?.oracle ?? []);
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
