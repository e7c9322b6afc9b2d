// Node module hooks for the llama.cpp child process (child.ts): node-llama-cpp imports its prebuilt
// binaries package by name (e.g. `@node-llama-cpp/linux-x64`); send that one import to the
// project-owned copy made by binaries.ts, so ggml scans a folder without the excluded CPU variants.
let redirect; // { packageName, indexUrl }

export async function initialize(data) {
  redirect = data;
}

export async function resolve(specifier, context, next) {
  if (redirect && specifier === redirect.packageName) return { url: redirect.indexUrl, shortCircuit: true, format: 'module' };
  return next(specifier, context);
}
