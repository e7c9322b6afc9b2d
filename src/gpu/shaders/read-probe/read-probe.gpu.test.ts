// The read probe computes what its CPU reference does for every layout (so the bench's read ceiling times
// real loads of every word, not a kernel the compiler could shorten), on a buffer of random words.
import { describe, expect, it } from 'vitest';
import { createStorage, readBack, uploadStorage } from '../../buffers.ts';
import { testGpu } from '../../testing/test-gpu.ts';
import { submitChecked } from '../common/quant-testing.ts';
import { createReadProbe, READ_PROBE_LAYOUTS, READ_PROBE_PER, readProbeName, readProbeRef } from './read-probe.ts';

describe('read-probe', () => {
  for (const layout of READ_PROBE_LAYOUTS) {
    it(`${readProbeName(layout)}: each invocation's sum = the CPU reference`, async () => {
      const { device } = await testGpu();
      const invocations = 2 * 256; // whole workgroups of every layout
      const w = new Uint32Array(invocations * READ_PROBE_PER * 4);
      let s = 12345;
      for (let i = 0; i < w.length; i++) w[i] = s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const wb = uploadStorage(device, w, 'w');
      const out = createStorage(device, invocations * 4, 'out');
      const k = createReadProbe(device, { w: wb, out, invocations, layout });
      await submitChecked(device, (enc) => k.encode(enc));
      const got = new Uint32Array(await readBack(device, out, invocations * 4));
      expect(Array.from(got)).toEqual(Array.from(readProbeRef(w, invocations, layout)));
      k.destroy();
      wb.destroy();
      out.destroy();
    });
  }

  it('rejects a partial workgroup', async () => {
    const { device } = await testGpu();
    const b = createStorage(device, 64, 'b');
    expect(() => createReadProbe(device, { w: b, out: b, invocations: 12, layout: { rows: false, wg: 16 } })).toThrow(/whole workgroups of 16/);
    b.destroy();
  });
});
