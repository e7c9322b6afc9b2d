/**
 * How fast one decode step runs on a loaded model (either backend), for the backend choice
 * (backend-choice.ts): a warm-up step first (on WebGPU it compiles the pipelines, which a software
 * adapter takes long over, and which later tokens never pay again), then timed steps, one at least and
 * up to 3 while under `budgetMs`; the fastest counts. Greedy, on a throwaway session: the next session
 * the runtime opens starts from position 0 again.
 */
import { samplerSettings } from '../gpu/shaders/sampling/sampling.ts';
import type { RuntimeModel } from './runtime-model.ts';

export async function timeDecodeStep(model: RuntimeModel, budgetMs = 300): Promise<number> {
  const session = model.session({});
  const settings = samplerSettings({ temperature: 0 });
  const history: number[] = [1 % model.config.vocab];
  let token = (await session.feedAndSample(history, { settings, history, step: 0 })).token;
  let best = Infinity;
  let spent = 0;
  for (let i = 0; i < 3 && (i === 0 || spent < budgetMs); i++) {
    history.push(token);
    const t0 = performance.now();
    token = (await session.feedAndSample([token], { settings, history, step: i + 1 })).token;
    const dt = performance.now() - t0;
    best = Math.min(best, dt);
    spent += dt;
  }
  return best;
}
