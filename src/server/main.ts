/** The package's bin entry (bin/sparsescope.mjs runs the built copy of this file, dist/lib/cli.js). */
import { main } from './cli.ts';

await main(process.argv.slice(2));
