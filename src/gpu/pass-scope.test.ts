import { describe, expect, it } from 'vitest';
import { inOnePass, leavePass, recordInPass } from './pass-scope.ts';

/** A command encoder that logs what is recorded on it, checking WebGPU's rule: one open pass at a time, no copies inside one. */
function loggingEncoder() {
  const log: string[] = [];
  let open = false;
  const enc = {
    beginComputePass(d?: GPUComputePassDescriptor) {
      if (open) throw new Error('a pass is already open');
      open = true;
      log.push(`begin ${d?.label ?? ''}${d?.timestampWrites ? ' (timestamps)' : ''}`);
      return {
        dispatchWorkgroups: (x: number) => log.push(`dispatch ${x}`),
        end: () => {
          if (!open) throw new Error('end of a closed pass');
          open = false;
          log.push('end');
        },
      };
    },
    copyBufferToBuffer() {
      if (open) throw new Error('copy inside a pass');
      log.push('copy');
    },
  };
  return { enc: enc as unknown as GPUCommandEncoder, log, isOpen: () => open };
}

const dispatch = (enc: GPUCommandEncoder, x: number, t?: GPUComputePassTimestampWrites) => recordInPass(enc, `k${x}`, (p) => p.dispatchWorkgroups(x), t);

describe('pass scope', () => {
  it('outside a scope, each kernel records its own pass', () => {
    const { enc, log } = loggingEncoder();
    dispatch(enc, 1);
    dispatch(enc, 2);
    expect(log).toEqual(['begin k1', 'dispatch 1', 'end', 'begin k2', 'dispatch 2', 'end']);
  });

  it('inside a scope, kernels share one pass in order; a copy splits it; the scope closes it', () => {
    const { enc, log, isOpen } = loggingEncoder();
    inOnePass(enc, 'step', () => {
      dispatch(enc, 1);
      dispatch(enc, 2);
      leavePass(enc);
      enc.copyBufferToBuffer({} as GPUBuffer, 0, {} as GPUBuffer, 0, 4);
      dispatch(enc, 3);
      inOnePass(enc, 'nested', () => dispatch(enc, 4)); // an inner scope joins the outer pass
    });
    expect(isOpen()).toBe(false);
    expect(log).toEqual(['begin step', 'dispatch 1', 'dispatch 2', 'end', 'copy', 'begin step', 'dispatch 3', 'dispatch 4', 'end']);
  });

  it('a pass with timestamps is its own pass even inside a scope', () => {
    const { enc, log } = loggingEncoder();
    inOnePass(enc, 'step', () => {
      dispatch(enc, 1);
      dispatch(enc, 2, { querySet: {} as GPUQuerySet, beginningOfPassWriteIndex: 0 });
      dispatch(enc, 3);
    });
    expect(log).toEqual(['begin step', 'dispatch 1', 'end', 'begin k2 (timestamps)', 'dispatch 2', 'end', 'begin step', 'dispatch 3', 'end']);
  });

  it('a kernel that throws inside the scope still leaves no pass open', () => {
    const { enc, isOpen } = loggingEncoder();
    expect(() =>
      inOnePass(enc, 'step', () => {
        dispatch(enc, 1);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isOpen()).toBe(false);
    dispatch(enc, 2); // and the encoder is out of the scope again
  });
});
