/** Runs the CLI exactly as `npm run --silent cli -- ...` does, capturing stdout, stderr and the exit code. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/cli/main.ts', ...args], { maxBuffer: 1 << 27 });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}
