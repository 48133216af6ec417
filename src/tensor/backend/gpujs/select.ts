/**
 * Loading gpu.js and choosing its backend (notes §8.4).
 * - Browser: WebGL2, then WebGPU, then WebGL on a hardware renderer; software renderers
 *   (SwiftShader, llvmpipe) only with `allowSoftware`; else gpu.js's WebAssembly backend.
 * - Node: WebGPU through the `webgpu` package (>= 0.6, Dawn) on a hardware adapter, then
 *   headless-gl when a display exists, else WebAssembly.
 * gpu.js picks silently (missing `gl`, no DISPLAY: webasm), so the choice is made and checked here.
 */
import type { GpuInstance, GpuModule } from './gpujs-types.js';
import { isGpuModule } from './gpujs-types.js';
import type { GpuBackendKind } from './runtime.js';

export interface SelectOptions {
  /** A backend to use, or 'auto' (default) for the order above. */
  readonly backend?: GpuBackendKind | 'auto';
  /** Accept software renderers and fallback adapters (SwiftShader, llvmpipe, lavapipe). Default false. */
  readonly allowSoftware?: boolean;
}

export interface Selected {
  readonly kind: GpuBackendKind;
  readonly gpu: GpuInstance;
  readonly renderer: string;
  readonly software: boolean;
  readonly kernelClass: string;
}

const KERNEL_CLASS: Record<GpuBackendKind, string> = {
  webgpu: 'WebGPUKernel',
  webgl2: 'WebGL2Kernel',
  webgl: 'WebGLKernel',
  headlessgl: 'HeadlessGLKernel',
  webasm: 'WebAssemblyKernel',
  cpu: 'CPUKernel',
};

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** gpu.js: the UMD global a browser page loaded (`<script src="gpu-browser.js">`), else the package. */
export async function loadGpuJs(): Promise<GpuModule> {
  const global = (globalThis as { GPU?: unknown }).GPU;
  if (isGpuModule(global)) return global;
  // NOTE: a variable specifier keeps bundlers and tsc from resolving the optional dependency.
  const spec = 'gpu.js';
  let m: unknown;
  try {
    m = await import(/* @vite-ignore */ spec);
  } catch (e) {
    throw new Error(`tensorgrad gpu: the optional dependency gpu.js could not be loaded (${(e as Error).message}); install it with \`npm install gpu.js@2.24.1\``);
  }
  if (isGpuModule(m)) return m;
  const d = (m as { default?: unknown }).default;
  if (isGpuModule(d)) return d;
  throw new Error('tensorgrad gpu: the gpu.js module has no GPU export');
}

interface GpuAdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}
interface NavigatorGpu {
  requestAdapter(o?: object): Promise<GpuAdapterLike | null>;
}

function navigatorGpu(): NavigatorGpu | null {
  const nav = (globalThis as { navigator?: { gpu?: NavigatorGpu } }).navigator;
  return nav?.gpu ?? null;
}

/**
 * Node: install `navigator.gpu` from the `webgpu` package (Dawn), as notes §3 recipe A.
 * `opengles` is Dawn's OpenGL ES backend (a compatibility adapter, e.g. on llvmpipe).
 */
async function installNodeWebGpu(dawnBackend: string | undefined): Promise<boolean> {
  if (navigatorGpu()) return true;
  const spec = 'webgpu';
  let mod: { create?: (o: string[]) => NavigatorGpu & { wgslLanguageFeatures?: unknown }; globals?: object };
  try {
    mod = (await import(/* @vite-ignore */ spec)) as typeof mod;
  } catch {
    return false;
  }
  if (!mod.create || !mod.globals) return false;
  Object.assign(globalThis, mod.globals);
  const compat = dawnBackend?.startsWith('opengl') ?? false;
  if (compat && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  let dawn: NavigatorGpu & { wgslLanguageFeatures?: unknown };
  try {
    dawn = mod.create(dawnBackend ? [`backend=${dawnBackend}`] : []);
  } catch {
    return false;
  }
  const shim = {
    requestAdapter: (o: object = {}) => dawn.requestAdapter(compat ? { featureLevel: 'compatibility', ...o } : o),
    getPreferredCanvasFormat: () => 'rgba8unorm',
    get wgslLanguageFeatures() {
      return dawn.wgslLanguageFeatures;
    },
  };
  // NOTE: Node >= 21 has a global navigator getter, so define rather than assign.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: shim }, configurable: true, writable: true });
  return true;
}

async function webGpuAdapter(): Promise<{ renderer: string; software: boolean } | null> {
  const g = navigatorGpu();
  if (!g) return null;
  const adapter = await g.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const renderer = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown WebGPU adapter';
  const software = Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter) || SOFTWARE.test(renderer);
  return { renderer, software };
}

interface GlLike {
  getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number } | null;
  getParameter(p: number): unknown;
  readonly RENDERER: number;
}

/** The GL renderer string of the context gpu.js made (after one kernel ran). */
function glRenderer(gpu: GpuInstance): string {
  const gl = gpu.context as GlLike | undefined;
  if (!gl || typeof gl.getParameter !== 'function') return 'unknown';
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

/** Build a GPU instance for `kind` and run a probe kernel, checking the kernel class. */
async function tryKind(mod: GpuModule, kind: GpuBackendKind): Promise<Selected | null> {
  const { GPU } = mod;
  const supported: Record<GpuBackendKind, () => boolean> = {
    webgpu: () => navigatorGpu() !== null,
    webgl2: () => GPU.isWebGL2Supported,
    webgl: () => GPU.isWebGLSupported,
    headlessgl: () => GPU.isHeadlessGLSupported,
    webasm: () => GPU.isWebAssemblySupported,
    cpu: () => true,
  };
  if (!supported[kind]()) return null;
  let renderer = kind === 'webasm' ? 'WebAssembly (CPU)' : kind === 'cpu' ? 'JavaScript (CPU)' : 'unknown';
  let software = kind === 'webasm' || kind === 'cpu';
  if (kind === 'webgpu') {
    const a = await webGpuAdapter();
    if (!a) return null;
    ({ renderer, software } = a);
  }
  const gpu = new GPU({ mode: kind });
  try {
    const k = gpu.createKernel('function (a) { return a[this.thread.x] + 1; }', {
      output: [2], precision: 'single', tactic: 'precision', pipeline: false, immutable: true, loopMaxIterations: 1000,
    });
    const r: unknown = await k(Float32Array.of(1, 2));
    const name = k.kernel.constructor.name;
    const v = r instanceof Float32Array ? r : null;
    k.destroy();
    if (name !== KERNEL_CLASS[kind] || !v || v[0] !== 2 || v[1] !== 3) throw new Error(`probe ran as ${name}`);
  } catch {
    void Promise.resolve(gpu.destroy()).catch(() => undefined);
    return null;
  }
  if (kind === 'webgl2' || kind === 'webgl' || kind === 'headlessgl') {
    renderer = glRenderer(gpu);
    software = SOFTWARE.test(renderer);
  }
  return { kind, gpu, renderer, software, kernelClass: KERNEL_CLASS[kind] };
}

/** Pick and start a backend; throws when an explicitly requested one is unavailable. */
export async function selectBackend(mod: GpuModule, opts: SelectOptions & { dawnBackend?: string }): Promise<Selected> {
  const want = opts.backend ?? 'auto';
  if (want === 'webgpu' && isNode) await installNodeWebGpu(opts.dawnBackend);
  if (want !== 'auto') {
    const s = await tryKind(mod, want);
    if (!s) throw new Error(`tensorgrad gpu: the gpu.js '${want}' backend is not available here`);
    if (s.software && !opts.allowSoftware && want !== 'webasm' && want !== 'cpu') {
      void Promise.resolve(s.gpu.destroy()).catch(() => undefined);
      throw new Error(`tensorgrad gpu: '${want}' runs on a software renderer (${s.renderer}); pass allowSoftware: true to use it anyway`);
    }
    return s;
  }
  const order: GpuBackendKind[] = isNode ? ['webgpu', 'headlessgl'] : ['webgl2', 'webgpu', 'webgl'];
  if (isNode) await installNodeWebGpu(opts.dawnBackend);
  for (const kind of order) {
    const s = await tryKind(mod, kind);
    if (!s) continue;
    if (!s.software || opts.allowSoftware) return s;
    void Promise.resolve(s.gpu.destroy()).catch(() => undefined);
    // NOTE: headless-gl and Dawn's OpenGL ES backend cannot share a process (notes §3).
    if (isNode && kind === 'webgpu' && opts.dawnBackend?.startsWith('opengl')) break;
  }
  const s = await tryKind(mod, 'webasm');
  if (s) return s;
  const c = await tryKind(mod, 'cpu');
  if (!c) throw new Error('tensorgrad gpu: no gpu.js backend could run a kernel');
  return c;
}
