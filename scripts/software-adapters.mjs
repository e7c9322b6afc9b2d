// The software WebGPU adapters the tests and the Node CLI use on a machine without a GPU.
// Both are Vulkan drivers that Dawn (npm `webgpu`) loads when VK_DRIVER_FILES points at their ICD file.
//   SwiftShader: ships inside Debian's `chromium`; no shader-f16; 1 GiB storage bindings.
//   lavapipe:    Mesa 25 from bookworm-backports, unpacked into .cache/ by setup-test-env.mjs;
//                shader-f16 and subgroups; 128 MiB storage bindings.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const lavapipeDir = join(projectRoot, '.cache', 'lavapipe');
export const lavapipeIcd = join(lavapipeDir, 'lvp_icd.json');
export const swiftshaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** @returns {{name: string, icd: string}[]} the software adapters installed on this machine. */
export function installedSoftwareAdapters() {
  const all = [
    { name: 'swiftshader', icd: swiftshaderIcd },
    { name: 'lavapipe', icd: lavapipeIcd },
  ];
  return all.filter((a) => existsSync(a.icd));
}

/** The environment that makes Dawn see exactly one software adapter. */
export function adapterEnv(adapter) {
  return { VK_DRIVER_FILES: adapter.icd, VK_ICD_FILENAMES: adapter.icd, NODEVICE_SELECT: '1' };
}
