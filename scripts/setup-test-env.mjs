// Installs what `npm test` needs beyond node_modules, or names the exact commands when it can't:
//   - Debian `chromium` (the e2e browser, and the SwiftShader Vulkan driver inside it),
//   - `libvulkan1` and the libraries lavapipe links against (bookworm's own packages),
//   - Mesa 25's lavapipe from bookworm-backports, unpacked into .cache/lavapipe with a private apt
//     configuration (the system's apt state is untouched; Debian 12's own Mesa 22 is too old for Dawn),
//   - Debian's PyTorch (`python3-torch`, with numpy, regex and OpenBLAS) for the training smoke test
//     (src/tools/export-trained/train-smoke.test.ts runs tools/train/smoke.sh, and fails without torch).
// The backports archive address is derived from the machine's own apt sources, never typed in here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { lavapipeDir, lavapipeIcd, swiftshaderIcd } from './software-adapters.mjs';

const SYSTEM_PACKAGES = [
  'chromium',
  'libvulkan1',
  'libllvm15',
  'libdrm2',
  'libdrm-amdgpu1',
  'libelf1',
  'libexpat1',
  'libwayland-client0',
  'libx11-xcb1',
  'libxcb-dri3-0',
  'libxcb-present0',
  'libxcb-randr0',
  'libxcb-shm0',
  'libxcb-sync1',
  'libxcb-xfixes0',
  'libxcb1',
  'libxshmfence1',
  'libzstd1',
  'zlib1g',
  // tools/train/smoke.sh: torch 1.13 from bookworm (~155 MB of .debs with its dependencies, ~690 MB
  // installed); libopenblas0-pthread replaces the reference BLAS that torch would otherwise link.
  'python3-torch',
  'python3-numpy',
  'python3-regex',
  'libopenblas0-pthread',
];
const LAVAPIPE_PACKAGE = 'mesa-vulkan-drivers';
const LAVAPIPE_SUITE = 'bookworm-backports';

const log = (msg) => console.log(`[setup] ${msg}`);
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });

function isDebian12() {
  try {
    return /VERSION_CODENAME=bookworm/.test(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return false;
  }
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function missingSystemPackages() {
  return SYSTEM_PACKAGES.filter((p) => {
    try {
      return !/install ok installed/.test(sh('dpkg-query', ['-W', '-f=${Status}', p]));
    } catch {
      return true;
    }
  });
}

/** The Debian archive URI the machine already uses (deb822 `.sources` or one-line `.list` files). */
function debianArchiveUri() {
  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f))];
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    // deb822: a stanza with "URIs:" whose "Suites:" include bookworm (not -security).
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uri && suites.includes('bookworm') && /^Types:.*\bdeb\b/m.test(stanza)) return uri;
    }
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/.exec(line.trim());
      if (m) return m[1];
    }
  }
  return null;
}

function listDir(d) {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

function installLavapipe() {
  const uri = debianArchiveUri();
  if (!uri) throw new Error('no Debian bookworm archive found in the apt sources');
  const aptDir = join(lavapipeDir, 'apt');
  for (const d of ['lists/partial', 'archives/partial', 'etc', 'debs', 'root']) mkdirSync(join(aptDir, d), { recursive: true });
  const sourcesList = join(aptDir, 'etc', 'sources.list');
  writeFileSync(sourcesList, `deb ${uri} ${LAVAPIPE_SUITE} main\n`);
  const aptOpts = [
    `-o`,
    `Dir::Etc::sourcelist=${sourcesList}`,
    `-o`,
    `Dir::Etc::sourceparts=-`,
    `-o`,
    `Dir::State::lists=${join(aptDir, 'lists')}`,
    `-o`,
    `Dir::Cache::archives=${join(aptDir, 'archives')}`,
    `-o`,
    `APT::Sandbox::User=root`,
  ];
  log(`fetching ${LAVAPIPE_PACKAGE} from ${LAVAPIPE_SUITE} (private apt config in ${aptDir})`);
  sh('apt-get', [...aptOpts, 'update']);
  sh('apt-get', [...aptOpts, 'download', `${LAVAPIPE_PACKAGE}/${LAVAPIPE_SUITE}`], { cwd: join(aptDir, 'debs') });
  const deb = listDir(join(aptDir, 'debs')).find((f) => f.startsWith(LAVAPIPE_PACKAGE) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download produced no ${LAVAPIPE_PACKAGE} .deb`);
  const root = join(aptDir, 'root');
  rmSync(root, { recursive: true, force: true });
  sh('dpkg-deb', ['-x', join(aptDir, 'debs', deb), root]);
  const lib = join(root, 'usr/lib/x86_64-linux-gnu/libvulkan_lvp.so');
  if (!existsSync(lib)) throw new Error(`${deb} has no libvulkan_lvp.so`);
  // The packaged ICD names the library by soname; ours points at the unpacked copy.
  writeFileSync(lavapipeIcd, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: lib, api_version: '1.4.305' } }, null, 2));
  log(`lavapipe ready: ${lavapipeIcd}`);
}

function main() {
  const missing = missingSystemPackages();
  const needLavapipe = !existsSync(lavapipeIcd);
  if (missing.length === 0 && !needLavapipe && existsSync(swiftshaderIcd)) {
    log('chromium, Vulkan loader, SwiftShader, lavapipe and PyTorch are present');
    return;
  }
  if (!isRoot || !isDebian12()) {
    console.error('[setup] The GPU, browser and training tests need system packages that are missing and cannot be installed from here.');
    console.error('[setup] On Debian 12, as root, run:');
    if (missing.length) console.error(`    apt-get update && apt-get install -y ${missing.join(' ')}`);
    if (needLavapipe) console.error('    node scripts/setup-test-env.mjs   # unpacks Mesa 25 lavapipe from bookworm-backports into .cache/lavapipe');
    process.exitCode = 1;
    return;
  }
  if (missing.length) {
    log(`apt-get install ${missing.join(' ')}`);
    sh('apt-get', ['update'], { stdio: 'inherit' });
    sh('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (needLavapipe) installLavapipe();
}

main();
