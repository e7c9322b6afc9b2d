/// <reference lib="webworker" />
/** The Web Worker that owns the GPU: it exposes the engine over comlink and nothing else. */
import * as Comlink from 'comlink';
import { InProcessEngine } from '../engine/in-process-engine.ts';
import { installErrorTransfer } from './error-transfer.ts';

installErrorTransfer();
Comlink.expose(new InProcessEngine(() => (self.navigator as Navigator).gpu));
