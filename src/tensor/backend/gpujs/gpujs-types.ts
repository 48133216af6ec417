/**
 * The slice of gpu.js 2.24 that tensorgrad uses, typed structurally. gpu.js is an optional
 * dependency loaded at run time, so nothing here imports it: the loader narrows the module it
 * gets to these shapes.
 */

/** What a pipeline kernel returns and accepts: a GL `Texture`, a WebGPU buffer result, or (webasm/cpu) a Float32Array. */
export type GpuValue = Float32Array | GpuTexture;

/** A GL texture or WebGPU buffer result (`pipeline: true`). */
export interface GpuTexture {
  toArray(): unknown;
  delete(): void;
}

/** Settings we pass to `createKernel` (see notes §8.1: single precision, precision tactic, pipelined and immutable). */
export interface GpuKernelSettings {
  output: number[];
  precision: 'single';
  tactic: 'precision';
  pipeline: boolean;
  immutable: boolean;
  loopMaxIterations: number;
  argumentTypes?: Record<string, string>;
}

/** The inner kernel object (`shortcut.kernel`): its class name tells which backend really ran. */
export interface GpuInnerKernel {
  constructor: { name: string };
  fallbackReason?: string | null;
}

/** A callable kernel (gpu.js's `kernelRunShortcut`). */
export interface GpuKernel {
  (...args: (GpuValue | number)[]): unknown;
  readonly kernel: GpuInnerKernel;
  destroy(removeCanvasReferences?: boolean): void;
}

export interface GpuInstance {
  readonly mode: string;
  readonly context?: unknown;
  createKernel(source: string, settings: GpuKernelSettings): GpuKernel;
  destroy(): unknown;
}

export interface GpuConstructor {
  new (settings: { mode: string }): GpuInstance;
  readonly isWebGL2Supported: boolean;
  readonly isWebGLSupported: boolean;
  readonly isHeadlessGLSupported: boolean;
  readonly isWebAssemblySupported: boolean;
  readonly isSinglePrecisionSupported: boolean;
  isWebGPUAvailable(): Promise<boolean>;
}

/** The gpu.js module namespace (CommonJS in Node, a UMD global `GPU` in the browser bundle). */
export interface GpuModule {
  readonly GPU: GpuConstructor;
}

/**
 * The browser bundle's global is the GPU class itself, carrying the exports as properties
 * (`GPU.GPU === GPU`); Chrome's native WebGPU `GPU` interface has no `.GPU` and is rejected.
 */
export function isGpuModule(m: unknown): m is GpuModule {
  return (typeof m === 'object' || typeof m === 'function') && m !== null && typeof (m as { GPU?: unknown }).GPU === 'function';
}
