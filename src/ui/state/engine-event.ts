/** What the engine tells the page (status, load, generation), the one input every slice may react to. */
import type { EngineStatusEvent, GenerateEvent, LoadEvent } from '../../api/protocol.ts';

export type EngineEvent = EngineStatusEvent | LoadEvent | GenerateEvent;
