/**
 * Runs fuzz cases in child processes with a watchdog: a case that takes longer than `caseTimeoutMs`
 * is a hang, a process that dies (V8 out of memory past `maxOldSpaceMb`, an abort) is a crash; both
 * are recorded with the case and the run goes on in a fresh process from the next case.
 */
import { fork } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface FuzzResult {
  counts: Record<string, number>;
  /** cases that crashed, hung or threw an untyped error */
  defects: { i: number; outcome: string; kind?: string; detail?: string; message?: string }[];
  cases: number;
}

type Msg = { i: number; start?: true; kind?: string; detail?: string; outcome?: string; message?: string };

export async function runFuzz(o: {
  seed: number;
  cases: number;
  from?: number;
  caseTimeoutMs?: number;
  maxOldSpaceMb?: number;
  processes?: number;
}): Promise<FuzzResult> {
  const counts: Record<string, number> = {};
  const defects: FuzzResult['defects'] = [];
  const from = o.from ?? 0;
  const procs = o.processes ?? 2;
  const per = Math.ceil(o.cases / procs);
  const ranges = Array.from({ length: procs }, (_, k) => [from + k * per, Math.min(from + o.cases, from + (k + 1) * per)] as const).filter(([a, b]) => b > a);
  const record = (m: Msg) => {
    counts[m.outcome!] = (counts[m.outcome!] ?? 0) + 1;
    if (m.outcome === 'untyped' || m.outcome === 'hang' || m.outcome === 'crash')
      defects.push({ i: m.i, outcome: m.outcome, kind: m.kind, detail: m.detail, message: m.message });
  };
  await Promise.all(
    ranges.map(async ([a, b]) => {
      let next = a;
      while (next < b) {
        next = await new Promise<number>((done) => {
          const child = fork(join(HERE, 'worker.ts'), [String(o.seed), String(next), String(b)], {
            cwd: resolve(HERE, '../../..'),
            execArgv: ['--import', 'tsx', `--max-old-space-size=${o.maxOldSpaceMb ?? 512}`],
            stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
          });
          let current = next;
          let stderr = '';
          child.stderr!.on('data', (d: Buffer) => {
            stderr = (stderr + d.toString()).slice(-2000);
          });
          let timer: NodeJS.Timeout | undefined;
          const arm = () => {
            clearTimeout(timer);
            timer = setTimeout(() => {
              record({ i: current, outcome: 'hang', message: `no answer in ${o.caseTimeoutMs ?? 15_000} ms` });
              child.kill('SIGKILL');
            }, o.caseTimeoutMs ?? 15_000);
          };
          child.on('message', (m: Msg) => {
            if (m.start) {
              current = m.i;
              arm();
              return;
            }
            clearTimeout(timer);
            record(m);
            current = m.i + 1;
          });
          child.on('exit', (code, signal) => {
            clearTimeout(timer);
            if (current < b) {
              // died inside case `current` (or was killed as hung: recorded above)
              if (signal !== 'SIGKILL')
                record({ i: current, outcome: 'crash', message: `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` });
              done(current + 1);
            } else done(b);
          });
        });
      }
    }),
  );
  return { counts, defects, cases: o.cases };
}
