/**
 * What `engine.load(source)` accepts, normalised to the protocol's ModelSource: nothing (the bundled
 * model, located by the host), a URL (string with a scheme, or a URL object; a split set's first part
 * finds the others), a local path (Node), a File or Blob, the Files of a split set, or a ModelSource.
 */
import { SparseScopeError } from '../errors.ts';
import type { ModelSource } from './protocol.ts';

export type LoadSource = string | URL | Blob | Blob[] | ModelSource;

export function toModelSource(source: LoadSource, paths: boolean): ModelSource {
  if (source instanceof URL) return { kind: 'url', url: source.href };
  // Every part of a split GGUF set, in any order (the reader sorts and checks them).
  if (Array.isArray(source) && source.length > 0 && source.every((b) => typeof Blob !== 'undefined' && b instanceof Blob)) {
    return { kind: 'blobs', blobs: source, name: (source[0] as Partial<File>).name || 'model.gguf' };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const name = (source as Partial<File>).name;
    return { kind: 'blob', blob: source, name: name || 'model.gguf' };
  }
  if (typeof source === 'string') {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) || source.startsWith('blob:') || source.startsWith('data:')) return { kind: 'url', url: source };
    if (!paths) return { kind: 'url', url: new URL(source, globalThis.location?.href).href };
    return { kind: 'path', path: source };
  }
  if (
    typeof source === 'object' &&
    source &&
    'kind' in source &&
    (source.kind === 'url' || source.kind === 'blob' || source.kind === 'blobs' || source.kind === 'path')
  )
    return source as ModelSource;
  throw new SparseScopeError('bad-argument', 'load() takes a path, a URL, a File or Blob, the Files of a split set, or nothing (the bundled model)');
}

/** The bundled model's file name (public/models in the repository, models/ in the package). */
export const BUNDLED_MODEL_FILE = 'sparsescope-kjv-5m-q8_0.gguf';
