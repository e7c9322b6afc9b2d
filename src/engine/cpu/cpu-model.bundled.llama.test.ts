/**
 * The shipped model (public/models) on the CPU engine (CpuModel: the file's Q8_0 blocks, 2 threads,
 * roundActivations: matmul inputs rounded to Q8_0 as llama.cpp's CPU rounds them) against llama.cpp on the same file:
 * every prompt's greedy 32-token continuation, sampled as the page does, is identical, as for the
 * reference with that rounding emulated; the classroom's recall example is answered with its number
 * (testing/bundled-greedy.ts).
 */
import { openGguf } from '../../gguf/reader.ts';
import { samplerSettings } from '../../gpu/shaders/sampling/sampling.ts';
import { BUNDLED_MODEL, bundledModelSuite } from '../../model/reference/testing/bundled-greedy.ts';
import { CpuModel } from './cpu-model.ts';

bundledModelSuite(
  'the CPU engine',
  async () => {
    const file = await openGguf({ kind: 'path', path: BUNDLED_MODEL });
    let model: CpuModel;
    try {
      // the weights are copied at load: the file may close
      model = await CpuModel.load(file, { threads: 2, contextSize: 512, roundActivations: true });
    } finally {
      await file.close();
    }
    const settings = samplerSettings({ temperature: 0 });
    return {
      greedy: async (prompt, n) => {
        const s = model.session();
        const history = [...prompt];
        let r = await s.feedAndSample(prompt, { settings, history, step: 0 });
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          out.push(r.token);
          history.push(r.token);
          if (i + 1 < n) r = await s.feedAndSample([r.token], { settings, history, step: i + 1 });
        }
        return out;
      },
      logits: async (tokens) => (await model.session().feed(tokens, { allLogits: true })).logits,
      close: () => model.destroy(),
    };
  },
  { exactOnAll: true },
);
