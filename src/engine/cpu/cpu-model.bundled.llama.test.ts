/**
 * The shipped model (public/models) on the CPU engine (CpuModel: the file's Q8_0 blocks, 2 threads,
 * roundActivations: matmul inputs rounded to Q8_0 as llama.cpp's CPU rounds them) against llama.cpp on the same file:
 * every prompt's greedy 32-token continuation, sampled as the page does, is identical, as for the
 * reference with that rounding emulated; the classroom's recall example is answered with its number
 * (testing/bundled-greedy.ts).
 */
import { openGguf } from '../../gguf/reader.ts';
import { BUNDLED_MODEL, bundledModelSuite, engineGreedyBackend } from '../../model/reference/testing/bundled-greedy.ts';
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
    return { ...engineGreedyBackend(() => model.session()), close: () => model.destroy() };
  },
  { exactOnAll: true },
);
