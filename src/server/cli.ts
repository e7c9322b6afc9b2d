/**
 * `sparsescope serve [model.gguf] [--port N] [--host H] [--backend webgpu|cpu] [--max-queue N] [--api-key K]`:
 * loads the model (the bundled one by default), then serves the OpenAI routes. Prints one line,
 * `listening on http://HOST:PORT/v1 (model <id>)`, to stdout once it accepts requests.
 */
import { parseArgs } from 'node:util';
import { createEngine } from '../api/node.ts';
import { isSparseScopeError } from '../errors.ts';
import { createApiServer } from './server.ts';

const USAGE = `usage: sparsescope serve [model.gguf] [--port 8080] [--host 127.0.0.1] [--backend webgpu|cpu] [--max-queue 8] [--api-key KEY]`;

function fail(message: string): never {
  console.error(`sparsescope: ${message}`);
  process.exit(2);
}

function intOption(v: string | undefined, name: string, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}\n${USAGE}`);
  return n;
}

export async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        backend: { type: 'string' },
        'max-queue': { type: 'string' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const [command, model, ...rest] = positionals;
  if (command !== 'serve' || rest.length) fail(USAGE);
  const backend = values.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu') fail(`--backend must be webgpu or cpu, got ${JSON.stringify(backend)}`);
  const port = intOption(values.port, 'port', 8080, 0);
  const host = values.host ?? '127.0.0.1';
  try {
    const engine = await createEngine({ backend });
    const summary = await engine.load(model);
    const server = createApiServer(engine, { maxQueue: intOption(values['max-queue'], 'max-queue', 8, 0), apiKey: values['api-key'] });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    const addr = server.address();
    const bound = typeof addr === 'object' && addr ? addr.port : port;
    console.log(`listening on http://${host}:${bound}/v1 (model ${engine.modelId}, ${summary.backend})`);
    const stop = () => server.close(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (e) {
    fail(isSparseScopeError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e));
  }
}
