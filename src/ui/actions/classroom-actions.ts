/**
 * Classroom: trace the prompt (plus the tokens stepped so far) under the chosen top-k, and ask the engine
 * for the next-token distribution under that k and under dense attention. Slider moves are debounced and
 * stale answers dropped, so dragging never shows an older k's picture.
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
  const text = c.prompt + c.appended.map((t) => t.text).join('');
  s.patchClassroom({ busy: true });
  try {
    const eng = getEngine();
    const [rows, result] = await Promise.all([
      eng.trace(text, { indexer: true, dense: true, router: true }, k),
      eng.step ? eng.step({ prompt: c.prompt, appended: c.appended.map((t) => t.id), indexTopK: k, candidates: 5 }) : Promise.resolve(undefined),
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
