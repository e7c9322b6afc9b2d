/**
 * comlink sends thrown errors as plain {name, message, stack}; this keeps SparseScopeError's `code`, so
 * the UI can switch on it. It wraps comlink's own 'throw' handler. Installed in the worker and the page.
 */
import * as Comlink from 'comlink';
import { SparseScopeError, isSparseScopeError, type ErrorCode } from '../errors.ts';

type Thrown = { value: unknown };
type Wire = { isError: boolean; value: unknown; code?: ErrorCode };

let installed = false;

export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<Thrown, Wire>;
  const handler: Comlink.TransferHandler<Thrown, Wire> = {
    canHandle: (v): v is Thrown => base.canHandle(v),
    serialize: (thrown) => {
      const [wire, transfer] = base.serialize(thrown);
      return [isSparseScopeError(thrown.value) ? { ...wire, code: thrown.value.code } : wire, transfer];
    },
    deserialize: (wire) => {
      if (wire.code) throw new SparseScopeError(wire.code, (wire.value as { message: string }).message);
      return base.deserialize(wire);
    },
  };
  Comlink.transferHandlers.set('throw', handler as Comlink.TransferHandler<unknown, unknown>);
}
