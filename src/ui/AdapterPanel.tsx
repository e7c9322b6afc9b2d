/**
 * The GPU the engine got: adapter name, features, key limits, the self-test kernel's result, and which
 * backend runs the loaded model and why (ModelSummary.backendChoice, from measured numbers).
 */
import { useStore } from './store.ts';

const SHOWN_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup'];

export function AdapterPanel() {
  const { status, info, selfTest } = useStore();
  const choice = useStore((s) => (s.model.status === 'ready' ? s.model.summary?.backendChoice : undefined));
  const tuning = useStore((s) => (s.model.status === 'ready' ? s.model.summary?.matvecTuning : undefined));
  return (
    <section className="panel" data-testid="adapter-panel">
      <h2>GPU</h2>
      <p>
        Status: <strong data-testid="gpu-status">{status}</strong>
      </p>
      {choice && (
        <p data-testid="backend" data-backend={choice.backend} data-threads={choice.threads ?? ''}>
          Backend: <strong data-testid="backend-label">{choice.label}</strong>: <span data-testid="backend-reason">{choice.reason}</span>
          {choice.cpuKernels && <span data-testid="cpu-kernels">. Decode dots: {choice.cpuKernels}</span>}
        </p>
      )}
      {info?.gpuUnavailable && <p data-testid="gpu-unavailable">No GPU: {info.gpuUnavailable.message}</p>}
      {info?.isolated !== undefined && (
        <p data-testid="engine-isolated" data-isolated={String(info.isolated)}>
          Engine thread cross-origin isolated:{' '}
          {info.isolated
            ? 'yes (SharedArrayBuffer: the CPU backend may use Worker threads)'
            : 'no (the page is served without COOP/COEP: the CPU backend runs on one thread)'}
        </p>
      )}
      {info && !info.gpuUnavailable && (
        <>
          <p>
            Adapter: <strong data-testid="adapter-name">{info.name}</strong>
          </p>
          <p data-testid="gpu-features">Features: {info.features.join(', ') || 'none'}</p>
          <p data-testid="gpu-kernels" data-software={String(info.software === true)}>
            Kernels:{' '}
            {info.software
              ? 'a software adapter (the CPU runs the shaders): decode matvecs run two rows per invocation, without workgroup barriers (measured in the bench)'
              : `decode matvecs run several rows per workgroup${info.hasSubgroups ? ', reduced with subgroup operations' : ''}, unless the tuner measured a faster variant`}
          </p>
          {tuning && tuning.length > 0 && (
            <ul data-testid="matvec-tuning">
              {tuning.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          )}
          <table className="limits">
            <tbody>
              {SHOWN_LIMITS.map((k) => (
                <tr key={k}>
                  <td>{k}</td>
                  <td>{info.limits[k]?.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {selfTest && (
        <p data-testid="selftest" data-ok={String(selfTest.ok)} data-max-error={selfTest.maxAbsError}>
          Kernel self-test ({selfTest.kernel} {selfTest.shape.join('×')} on the GPU against the CPU reference): max |error|{' '}
          {selfTest.maxAbsError.toExponential(2)} — {selfTest.ok ? 'pass' : 'FAIL'}
        </p>
      )}
    </section>
  );
}
