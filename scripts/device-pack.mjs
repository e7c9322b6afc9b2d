// Packs the GPU benchmarks for a machine that has a GPU and nothing else (no Node, no npm, no network):
// `npm run device:pack` writes .device/ (git-ignored, ~29 MiB), and there `bash .device/run.sh`
// runs the twin bench (src/bench/twin-main.ts: decode on a 2 GB V2-Lite-Chat twin and the whole Youtu-LLM-2B
// twin) and then the bench (src/bench/main.ts, large sizes, no llama.cpp), writing tables, logs and JSON
// to $OUT (default .device/out). What travels:
//   app/          both benches bundled by Vite (WGSL inlined, every dependency inside) + node_modules/webgpu
//                 (Dawn: index.js and the linux-x64 dawn.node, xz-compressed)
//   node.xz       this machine's Node binary (its libraries are glibc's, libstdc++ and libgcc's)
//   lib/          the Vulkan loader, libvulkan.so.1, from this machine's installed package
//   run.sh        scripts/device-run.sh
import { build } from 'vite';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeLibConfig } from '../vite.lib.config.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const out = join(root, '.device');
rmSync(out, { recursive: true, force: true });
const app = join(out, 'app');
mkdirSync(app, { recursive: true });

await build({
  ...nodeLibConfig,
  configFile: false,
  build: {
    ...nodeLibConfig.build,
    outDir: app,
    rollupOptions: {
      ...nodeLibConfig.build.rollupOptions,
      input: { 'twin-bench': 'src/bench/twin-main.ts', bench: 'src/bench/main.ts' },
    },
  },
});

const xz = (src, dst) => execFileSync('sh', ['-c', `xz -T0 -6 -c "${src}" > "${dst}"`], { stdio: 'inherit' });
const dawn = join(root, 'node_modules', 'webgpu');
const dawnOut = join(app, 'node_modules', 'webgpu');
mkdirSync(join(dawnOut, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['package.json', 'index.js', 'LICENSE.md']) copyFileSync(join(dawn, f), join(dawnOut, f));
xz(join(dawn, 'dist', 'linux-x64', 'dawn.node'), join(dawnOut, 'dist', 'linux-x64', 'dawn.node.xz'));
xz(realpathSync(process.execPath), join(out, 'node.xz'));

const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/lib/x86_64-linux-gnu/libvulkan.so.1'].find((p) => existsSync(p));
if (!loader) throw new Error('device-pack: no libvulkan.so.1 here (Debian: apt-get install libvulkan1)');
mkdirSync(join(out, 'lib'), { recursive: true });
copyFileSync(realpathSync(loader), join(out, 'lib', 'libvulkan.so.1'));

copyFileSync(join(root, 'scripts', 'device-run.sh'), join(out, 'run.sh'));
chmodSync(join(out, 'run.sh'), 0o755);
writeFileSync(join(out, 'PACKED'), `${new Date().toISOString()} node ${process.version}\n`);

const size = (dir) => Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);
console.log(`packed .device/ (${(size(out) / 2 ** 20).toFixed(1)} MiB; node.xz ${(statSync(join(out, 'node.xz')).size / 2 ** 20).toFixed(1)} MiB)`);
console.log('on the GPU machine: bash .device/run.sh   (carry .device; results in $OUT)');
