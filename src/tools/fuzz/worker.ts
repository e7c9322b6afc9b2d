/**
 * Fuzz worker process (forked by driver.ts): runs cases from..to of one seed and reports each
 * outcome over IPC before starting the next, so the driver knows which case hung or crashed.
 */
import { fuzzBaseSpec } from './base-file.ts';
import { Mutator } from './mutate.ts';
import { runCase } from './run-case.ts';

const [seed, from, to] = process.argv.slice(2).map(Number);
const mutator = new Mutator(fuzzBaseSpec());
for (let i = from; i < to; i++) {
  const m = mutator.mutation(seed, i);
  process.send!({ i, start: true });
  const r = await runCase(m.bytes);
  process.send!({ i, kind: m.kind, detail: m.detail, ...r });
}
process.disconnect();
