/** Shown above the playground when the browser has no WebGPU: models run on the CPU; what the GPU path needs. */
export function NoWebGpu() {
  return (
    <section className="panel" data-testid="no-webgpu">
      <h2>This browser has no WebGPU</h2>
      <p>The model runs on the CPU instead (in the page, slower than a GPU). To run it on your GPU through WebGPU, SparseScope needs one of:</p>
      <ul>
        <li>Chrome or Edge 113 or newer on Windows, macOS or ChromeOS;</li>
        <li>Chrome on Linux or Android with WebGPU enabled (chrome://flags/#enable-unsafe-webgpu, or the launch flag --enable-unsafe-webgpu);</li>
        <li>Safari 26 or newer on macOS or iOS;</li>
        <li>Firefox 141 or newer on Windows.</li>
      </ul>
      <p>Also check that hardware acceleration is on in the browser settings, and that the page is served over https or localhost.</p>
    </section>
  );
}
