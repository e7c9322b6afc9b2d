/**
 * Classroom: trace the prompt (plus the tokens stepped so far) under the chosen top-k, and ask the engine
 * for the next-token distribution under that k and under dense attention. The k is the lightning indexer's
 * on a model that has one (deepseek32), else the oracle's (any model: the k past positions of largest dense
 * attention weight). Slider moves are debounced and stale answers dropped, so dragging never shows an
 * older k's picture.
 */
import { getEngine, report } from '../engine.ts';
import { useStore } from '../store.ts';

const get = useStore.getState;
let seq = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

export function effectiveK(): number {
  const c = get().classroom;
  return c.dense ? 0 : c.k;
}

/** Whether the loaded model picks positions with a lightning indexer (else the classroom's k is the oracle's). */
export function hasIndexer(): boolean {
  return get().model.summary?.indexTopK !== undefined;
}

/** The classroom's k as the engine takes it: the indexer's top-k, or an oracle top-k (0 = dense). */
export function selection(): { indexTopK: number; oracleTopK?: number } {
  const k = effectiveK();
  return hasIndexer() ? { indexTopK: k } : { indexTopK: 0, oracleTopK: k };
}

export function retraceSoon(delayMs = 120): void {
  clearTimeout(timer);
  timer = setTimeout(() => void retrace(), delayMs);
}

export async function retrace(): Promise<void> {
  const s = get();
  if (s.model.status !== 'ready' || s.generating) return;
  const my = ++seq;
  const c = s.classroom;
  const k = effectiveK();
  const sel = selection();
  const text = c.prompt + c.appended.map((t) => t.text).join('');
  s.patchClassroom({ busy: true });
  try {
    const eng = getEngine();
    const [rows, result] = await Promise.all([
      eng.trace(text, { indexer: true, dense: true, router: true }, sel.indexTopK, sel.oracleTopK),
      eng.step ? eng.step({ prompt: c.prompt, appended: c.appended.map((t) => t.id), ...sel, candidates: 5 }) : Promise.resolve(undefined),
    ]);
    if (my !== seq) return;
    s.setAnalysis({ source: 'classroom', tokens: rows.map((r, i) => r.token ?? { id: -1, text: `#${i}` }), rows, k });
    get().patchClassroom({ result });
  } catch (e) {
    if (my === seq) report(e);
  } finally {
    if (my === seq) get().patchClassroom({ busy: false });
  }
}

/** Appends the most probable next token (under the current mode) and re-traces. */
export async function stepOnce(): Promise<void> {
  const c = get().classroom;
  const r = c.result;
  if (!r) return retrace();
  const next = (c.dense ? r.denseCandidates : r.candidates)[0];
  if (!next) return;
  get().patchClassroom({ appended: [...c.appended, { id: next.id, text: next.text }] });
  await retrace();
}

export function resetSteps(): void {
  get().patchClassroom({ appended: [], result: undefined });
  retraceSoon(0);
}
