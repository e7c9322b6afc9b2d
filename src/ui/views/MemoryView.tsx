/** Memory view: KV-cache bytes of MLA (+ index keys) against MHA and GQA, for this model and for DeepSeek-V3.2 at 128K. */
import { useStore } from '../store.ts';
import { cacheBytes, DEEPSEEK_V32, formatBytes } from '../lib/memory-model.ts';
import { isDenseShape, type DenseShape, type ModelShape } from '../../api/protocol.ts';
import { Explain } from './Explain.tsx';

function Bars({ title, shape, tokens, bytesPerValue, testId }: { title: string; shape: ModelShape; tokens: number; bytesPerValue: number; testId: string }) {
  const c = cacheBytes(shape, tokens, bytesPerValue);
  const items = [
    { label: 'MLA latent + rotary key', bytes: c.mla, cls: 'mla' },
    ...(c.indexKeys ? [{ label: 'DSA index keys', bytes: c.indexKeys, cls: 'idx' }] : []),
    { label: `Same model with GQA (${c.gqaGroups} KV heads)`, bytes: c.gqa, cls: 'gqa' },
    { label: `Same model with plain MHA (${shape.heads} heads)`, bytes: c.mha, cls: 'mha' },
  ];
  const max = Math.max(...items.map((i) => i.bytes));
  return (
    <figure className="bars" data-testid={testId} data-bytes={JSON.stringify(c)}>
      <figcaption>
        <strong>{title}</strong>{' '}
        <span className="axes">
          {tokens.toLocaleString()} tokens × {shape.layers} layers, {bytesPerValue * 8}-bit values
        </span>
      </figcaption>
      {items.map((i) => (
        <div key={i.label} className="bar-row">
          <span className="bar-label">{i.label}</span>
          <span className="bar-track">
            <span className={`bar ${i.cls}`} style={{ width: `${Math.max(0.4, (100 * i.bytes) / max)}%` }} />
          </span>
          <span className="bar-value">{formatBytes(i.bytes)}</span>
        </div>
      ))}
      <p className="note">
        MLA + index keys are {((100 * (c.mla + c.indexKeys)) / c.mha).toFixed(1)} % of the MHA cache ({c.perTokenLayer.mla + c.perTokenLayer.indexKeys} vs{' '}
        {c.perTokenLayer.mha.toLocaleString()} values per token per layer).
      </p>
    </figure>
  );
}

/** A dense GQA model's own cache: keys and values of its kv heads, against MHA over all its query heads. */
function DenseBars({ title, shape, tokens, bytesPerValue }: { title: string; shape: DenseShape; tokens: number; bytesPerValue: number }) {
  const perTokenLayer = { gqa: 2 * shape.headsKv * shape.headDim, mha: 2 * shape.heads * shape.headDim };
  const scale = tokens * shape.layers * bytesPerValue;
  const items = [
    { label: `GQA keys + values (${shape.headsKv} KV heads × ${shape.headDim})`, bytes: perTokenLayer.gqa * scale, cls: 'gqa' },
    { label: `Same model with plain MHA (${shape.heads} heads)`, bytes: perTokenLayer.mha * scale, cls: 'mha' },
  ];
  const max = Math.max(...items.map((i) => i.bytes));
  return (
    <figure className="bars" data-testid="memory-model" data-bytes={JSON.stringify({ gqa: items[0].bytes, mha: items[1].bytes, perTokenLayer })}>
      <figcaption>
        <strong>{title}</strong>{' '}
        <span className="axes">
          {tokens.toLocaleString()} tokens × {shape.layers} layers, {bytesPerValue * 8}-bit values
        </span>
      </figcaption>
      {items.map((i) => (
        <div key={i.label} className="bar-row">
          <span className="bar-label">{i.label}</span>
          <span className="bar-track">
            <span className={`bar ${i.cls}`} style={{ width: `${Math.max(0.4, (100 * i.bytes) / max)}%` }} />
          </span>
          <span className="bar-value">{formatBytes(i.bytes)}</span>
        </div>
      ))}
      <p className="note">
        This model has no MLA latent cache and no index keys: it caches every KV head's keys and values ({perTokenLayer.gqa.toLocaleString()} values per token
        per layer, {((100 * perTokenLayer.gqa) / perTokenLayer.mha).toFixed(1)} % of MHA).
      </p>
    </figure>
  );
}

export function MemoryView() {
  const summary = useStore((s) => s.model.summary);
  return (
    <div className="view">
      <Explain topic="mla" />
      {isDenseShape(summary?.shape) ? (
        <DenseBars title={`${summary.name} at its full context`} shape={summary.shape} tokens={summary.contextLength} bytesPerValue={4} />
      ) : summary?.shape ? (
        <Bars title={`${summary.name} at its full context`} shape={summary.shape} tokens={summary.contextLength} bytesPerValue={4} testId="memory-model" />
      ) : (
        <p className="empty">Load a model to see its own cache sizes.</p>
      )}
      <Bars title="DeepSeek-V3.2 (671B) at 128K context" shape={DEEPSEEK_V32} tokens={131072} bytesPerValue={2} testId="memory-v32" />
    </div>
  );
}
