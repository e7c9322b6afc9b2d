/**
 * The shareable state lives in the URL: model, view, layer, classroom prompt, k and dense switch.
 * Read once at start; written back with replaceState whenever those change (no history spam).
 * Other parameters (engine=fake, fakeDelay) are left as they are.
 */
import { useStore } from '../store.ts';
import { isViewName } from '../views/view-list.ts';

export function readUrlState(): void {
  const q = new URLSearchParams(location.search);
  const s = useStore.getState();
  const view = q.get('view');
  if (isViewName(view)) s.setView(view);
  const layer = Number(q.get('layer'));
  if (Number.isInteger(layer) && layer >= 0) s.setLayer(layer);
  const patch: Parameters<typeof s.patchClassroom>[0] = {};
  const k = Number(q.get('k'));
  if (Number.isInteger(k) && k >= 1) patch.k = k;
  if (q.get('prompt')) patch.prompt = q.get('prompt')!;
  if (q.get('dense') === '1') patch.dense = true;
  s.patchClassroom(patch);
}

export function syncUrlState(): () => void {
  return useStore.subscribe((s, prev) => {
    if (
      s.view === prev.view &&
      s.layer === prev.layer &&
      s.classroom.k === prev.classroom.k &&
      s.classroom.prompt === prev.classroom.prompt &&
      s.classroom.dense === prev.classroom.dense
    )
      return;
    const q = new URLSearchParams(location.search);
    q.set('view', s.view);
    q.set('layer', String(s.layer));
    q.set('k', String(s.classroom.k));
    q.set('prompt', s.classroom.prompt);
    if (s.classroom.dense) q.set('dense', '1');
    else q.delete('dense');
    history.replaceState(null, '', `${location.pathname}?${q}`);
  });
}

/** The current page address plus the loaded model's URL (when it came from one), to copy and share. */
export function shareLink(modelUrl?: string): string {
  const q = new URLSearchParams(location.search);
  if (modelUrl) q.set('model', modelUrl);
  return `${location.origin}${location.pathname}?${q}`;
}
