/**
 * The shipped model (public/models) on the WebGPU engine against llama.cpp on the same file: three
 * prompts' greedy 32-token continuations, sampled on the GPU as the page does, are identical; on more
 * prompts, any departure is one the measured log-prob difference allows; the classroom's recall example
 * (306 tokens, beyond the indexer's top-64) is answered with its number (testing/bundled-greedy.ts).
 */
import { openGguf } from '../../gguf/reader.ts';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { BUNDLED_MODEL, bundledModelSuite, engineGreedyBackend } from '../../model/reference/testing/bundled-greedy.ts';
import { WebGpuModel } from './webgpu-model.ts';

bundledModelSuite('WebGPU', async () => {
  const file = await openGguf({ kind: 'path', path: BUNDLED_MODEL });
  let model: WebGpuModel;
  try {
    model = await WebGpuModel.load(await testGpu(), file, { contextSize: 512 });
  } finally {
    await file.close();
  }
  return { ...engineGreedyBackend(() => model.session()), close: () => model.destroy() };
});
