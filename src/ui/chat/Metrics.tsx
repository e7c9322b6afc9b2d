/**
 * Live tokens/s and time to first token. Written straight into the DOM by a transient store
 * subscription: per-token updates never re-render React components.
 */
import { useEffect, useRef } from 'react';
import { useStore } from '../store.ts';

export function Metrics() {
  const tps = useRef<HTMLSpanElement>(null);
  const ttft = useRef<HTMLSpanElement>(null);
  const count = useRef<HTMLSpanElement>(null);
  useEffect(
    () =>
      useStore.subscribe((s, prev) => {
        if (s.metrics === prev.metrics) return;
        const m = s.metrics;
        if (count.current) count.current.textContent = String(m.tokens);
        if (ttft.current) ttft.current.textContent = m.firstTokenAt ? `${(m.firstTokenAt - m.startedAt).toFixed(0)} ms` : '–';
        const secs = (m.lastAt - m.firstTokenAt) / 1000;
        if (tps.current) tps.current.textContent = m.tokens > 1 && secs > 0 ? ((m.tokens - 1) / secs).toFixed(1) : '–';
      }),
    [],
  );
  return (
    <div className="metrics" data-testid="metrics">
      <span>
        <span ref={tps} data-testid="tokens-per-second">
          –
        </span>{' '}
        tok/s
      </span>
      <span>
        first token <span ref={ttft}>–</span>
      </span>
      <span>
        <span ref={count}>0</span> tokens
      </span>
    </div>
  );
}
