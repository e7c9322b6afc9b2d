/**
 * Classroom: a prompt, a Step button, the top-k slider (1..context) and a dense switch; the next-token
 * candidates under top-k vs dense with KL and top-1 agreement, and the indexer heatmap for the same k.
 * The k is the lightning indexer's (deepseek32) or, for any other model, the oracle's (classroom-actions.ts).
 */
import { useEffect } from 'react';
import { useStore } from '../store.ts';
import { retrace, retraceSoon, resetSteps, stepOnce } from '../actions/classroom-actions.ts';
import { IndexerView } from './IndexerView.tsx';
import { Explain } from './Explain.tsx';
import { RECALL_EXAMPLE } from './recall-example.ts';
import type { Candidate } from '../../api/protocol.ts';

export function ClassroomView() {
  const c = useStore((s) => s.classroom);
  const ready = useStore((s) => s.model.status === 'ready');
  const patch = useStore((s) => s.patchClassroom);
  const contextTokens = useStore((s) => (s.analysis?.source === 'classroom' ? s.analysis.tokens.length : 0));
  const hasStep = useStore((s) => s.model.status === 'ready') && c.result !== undefined;
  const summary = useStore((s) => s.model.summary);

  useEffect(() => {
    if (ready) void retrace();
  }, [ready]);

  const maxK = Math.max(1, contextTokens || c.k);
  return (
    <div className="view classroom">
      <Explain topic="classroom" />
      {summary && summary.indexTopK === undefined && (
        <p className="note" data-testid="classroom-oracle">
          {summary.name} ({summary.arch}) has no lightning indexer, so here the top-k is the <strong>oracle</strong>'s: each layer attends only to the k past
          tokens that dense attention weights most (summed over heads) — the best any k-token selector could do.
        </p>
      )}
      <div className="classroom-controls">
        <textarea
          data-testid="classroom-prompt"
          rows={2}
          value={c.prompt}
          onChange={(e) => patch({ prompt: e.target.value, appended: [] })}
          onBlur={() => retraceSoon(0)}
        />
        <div className="row">
          <button data-testid="classroom-step" disabled={!ready || c.busy} onClick={() => void stepOnce()}>
            Step one token
          </button>
          <button disabled={!ready || !c.appended.length} onClick={resetSteps}>
            Reset steps
          </button>
          <button
            data-testid="recall-example"
            title="A fact, scripture, then the fact's question: does the top-k keep the number in view?"
            onClick={() => {
              patch({ prompt: RECALL_EXAMPLE, appended: [] });
              retraceSoon(0);
            }}
          >
            Recall example
          </button>
          <label className="slider">
            top-k{' '}
            <input
              data-testid="topk-slider"
              type="range"
              min={1}
              max={maxK}
              value={Math.min(c.k, maxK)}
              disabled={!ready || c.dense}
              onChange={(e) => {
                patch({ k: Number(e.target.value) });
                retraceSoon();
              }}
            />{' '}
            <output data-testid="topk-value">
              {Math.min(c.k, maxK)} / {maxK}
            </output>
          </label>
          <label>
            <input
              data-testid="dense-switch"
              type="checkbox"
              checked={c.dense}
              onChange={(e) => {
                patch({ dense: e.target.checked });
                retraceSoon(0);
              }}
            />{' '}
            dense attention
          </label>
          {c.busy && <span className="busy">running…</span>}
        </div>
      </div>
      {hasStep && c.result ? (
        <div className="step-result" data-testid="step-result" data-kl={c.result.klToDense} data-top1={String(c.result.top1Agrees)}>
          <Candidates title={c.dense ? 'Next token (dense)' : `Next token with top-${c.k}`} list={c.dense ? c.result.denseCandidates : c.result.candidates} />
          <Candidates title="Next token with dense attention" list={c.result.denseCandidates} />
          <div className="step-stats">
            <div>
              KL(dense ‖ sparse) <strong>{c.result.klToDense.toFixed(4)}</strong> nats
            </div>
            <div>top-1 {c.result.top1Agrees ? <strong className="agree">agrees</strong> : <strong className="disagree">differs</strong>}</div>
            <div>steps taken: {c.appended.length}</div>
          </div>
        </div>
      ) : (
        ready && <p className="empty">This engine does not offer single steps yet; the heatmap below still follows the slider.</p>
      )}
      <IndexerView compact />
    </div>
  );
}

function Candidates({ title, list }: { title: string; list: Candidate[] }) {
  return (
    <table className="candidates">
      <caption>{title}</caption>
      <tbody>
        {list.map((x) => (
          <tr key={x.id}>
            <td className="cand-text">{JSON.stringify(x.text)}</td>
            <td className="cand-bar">
              <span style={{ width: `${100 * x.prob}%` }} />
            </td>
            <td className="cand-p">{(100 * x.prob).toFixed(1)} %</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
