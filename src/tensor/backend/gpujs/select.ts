/**
 * Loading gpu.js and choosing its backend (notes §8.4).
 * - Browser: WebGL2, then WebGPU, then WebGL on a hardware renderer; software renderers
 *   (SwiftShader, llvmpipe) only with `allowSoftware`; else gpu.js's WebAssembly backend.
 * - Node: WebGPU through the `webgpu` package (>= 0.6, Dawn) on a hardware adapter, then
 *   headless-gl when a display exists, else WebAssembly.
 * gpu.js picks silently (missing `gl`, no DISPLAY: webasm), so the choice is made and checked here,
 * and a backend that cannot start says why.
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
  /** How many buffers one kernel may read: GL texture units, WebGPU storage buffers less the output. */
  readonly maxKernelInputs: number;
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
  readonly limits?: { readonly maxStorageBuffersPerShaderStage?: number };
  requestDevice?(d?: { requiredLimits?: Record<string, number> }): Promise<unknown>;
}

/**
 * WebGPU's default device limits allow 8 storage buffers per shader stage (4 on a compatibility
 * adapter), and gpu.js binds each kernel argument and the output as one. Our Node shim asks
 * for the adapter's own limit instead; in browsers gpu.js requests the device with the defaults.
 */
const WEBGPU_DEFAULT_STORAGE_BUFFERS = 8;

/** `adapter`, with `requestDevice` also asking for every storage buffer binding the adapter has. */
function withStorageBufferLimit(adapter: GpuAdapterLike): GpuAdapterLike {
  const max = adapter.limits?.maxStorageBuffersPerShaderStage;
  if (!max || !adapter.requestDevice) return adapter;
  return new Proxy(adapter, {
    get(target, key) {
      if (key === 'requestDevice') {
        return (d: { requiredLimits?: Record<string, number> } = {}) =>
          target.requestDevice!({ ...d, requiredLimits: { maxStorageBuffersPerShaderStage: max, ...d.requiredLimits } });
      }
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
interface NavigatorGpu {
  requestAdapter(o?: object): Promise<GpuAdapterLike | null>;
}

function navigatorGpu(): NavigatorGpu | null {
  const nav = (globalThis as { navigator?: { gpu?: NavigatorGpu } }).navigator;
  return nav?.gpu ?? null;
}

/** The Dawn instance behind the `navigator.gpu` shim this module installed in Node, if any. */
let nodeWebGpu: { readonly dawnBackend: string } | null = null;

/**
 * Which of the two GL stacks that cannot share a Node process has started in this one:
 * headless-gl's statically linked ANGLE and Dawn's OpenGL ES backend (Mesa EGL). Once one has
 * made a context, the other fails (Dawn: `eglInitialize` fails) or kills the process (headless-gl:
 * X error `BadAccess` in `X_GLXMakeCurrent`), so the second is refused with a reason instead.
 */
let glStack: 'headlessgl' | 'dawn-opengles' | null = null;

const GL_CLASH =
  "headless-gl and Dawn's OpenGL ES backend cannot run in one process (their GL libraries clash, notes §3); " +
  'this process already started';

/**
 * Node: install `navigator.gpu` from the `webgpu` package (Dawn), as notes §3 recipe A.
 * `opengles` is Dawn's OpenGL ES backend (a compatibility adapter, e.g. on llvmpipe); without a
 * `dawnBackend`, Dawn uses Vulkan on Linux. Returns null, or why it could not.
 */
async function installNodeWebGpu(dawnBackend: string | undefined): Promise<string | null> {
  const wanted = dawnBackend ?? '';
  if (nodeWebGpu?.dawnBackend === wanted) return null;
  if (!nodeWebGpu && navigatorGpu()) return null; // a navigator.gpu the application installed
  const gles = wanted.startsWith('opengl');
  if (gles && glStack === 'headlessgl') return `${GL_CLASH} headless-gl; use another process (or dawnBackend: 'vulkan')`;
  const spec = 'webgpu';
  let mod: { create?: (o: string[]) => NavigatorGpu & { wgslLanguageFeatures?: unknown }; globals?: object };
  try {
    mod = (await import(/* @vite-ignore */ spec)) as typeof mod;
  } catch (e) {
    return `the \`webgpu\` package (Dawn, >= 0.6) could not be loaded (${(e as Error).message.split('\n')[0]}); install it with \`npm install webgpu@0.6.2\``;
  }
  if (!mod.create || !mod.globals) {
    return 'the `webgpu` package has no create(): it is older than 0.6 (gpu.js\'s own webgpu@0.2.9 cannot be used); install webgpu@0.6.2';
  }
  Object.assign(globalThis, mod.globals);
  // NOTE: Dawn's OpenGL ES backend needs EGL; without X, Mesa's surfaceless platform works.
  if (gles && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  let dawn: NavigatorGpu & { wgslLanguageFeatures?: unknown };
  try {
    dawn = mod.create(wanted ? [`backend=${wanted}`] : []);
  } catch (e) {
    return `Dawn could not start (${(e as Error).message})`;
  }
  const shim = {
    // Dawn's OpenGL ES backend offers only a compatibility-mode adapter.
    requestAdapter: async (o: object = {}) => {
      const adapter = await dawn.requestAdapter(gles ? { featureLevel: 'compatibility', ...o } : o);
      return adapter && withStorageBufferLimit(adapter);
    },
    getPreferredCanvasFormat: () => 'rgba8unorm',
    get wgslLanguageFeatures() {
      return dawn.wgslLanguageFeatures;
    },
  };
  // NOTE: Node >= 21 has a global navigator getter, so define rather than assign.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: shim }, configurable: true, writable: true });
  nodeWebGpu = { dawnBackend: wanted };
  return null;
}

async function webGpuAdapter(): Promise<{ renderer: string; software: boolean; maxKernelInputs: number } | null> {
  const g = navigatorGpu();
  if (!g) return null;
  const adapter = await g.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const renderer = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown WebGPU adapter';
  const software = Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter) || SOFTWARE.test(renderer);
  const buffers = nodeWebGpu ? (adapter.limits?.maxStorageBuffersPerShaderStage ?? WEBGPU_DEFAULT_STORAGE_BUFFERS) : WEBGPU_DEFAULT_STORAGE_BUFFERS;
  return { renderer, software, maxKernelInputs: buffers - 1 };
}

interface GlLike {
  getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number } | null;
  getParameter(p: number): unknown;
  readonly RENDERER: number;
  readonly MAX_TEXTURE_IMAGE_UNITS: number;
}

/** Texture units a fragment shader may sample: kernel inputs on GL (WebGL guarantees 8). */
function glTextureUnits(gpu: GpuInstance): number {
  const gl = gpu.context as GlLike | undefined;
  const n = gl && typeof gl.getParameter === 'function' ? Number(gl.getParameter(gl.MAX_TEXTURE_IMAGE_UNITS)) : NaN;
  return Number.isFinite(n) && n >= 8 ? n : 8;
}

/** The GL renderer string of the context gpu.js made (after one kernel ran). */
function glRenderer(gpu: GpuInstance): string {
  const gl = gpu.context as GlLike | undefined;
  if (!gl || typeof gl.getParameter !== 'function') return 'unknown';
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

/**
 * headless-gl reports its renderer as plain "ANGLE", hiding the driver under it. On Linux the
 * driver shows in the process's mapped libraries: Mesa loads `<driver>_dri.so` (`swrast_dri.so`
 * and `kms_swrast_dri.so` are its software rasterisers, llvmpipe or softpipe), NVIDIA's driver
 * `libGLX_nvidia.so`.
 */
async function headlessGlRenderer(): Promise<{ renderer: string; software: boolean }> {
  let maps = '';
  try {
    const fs = 'node:fs';
    const { readFileSync } = (await import(/* @vite-ignore */ fs)) as { readFileSync(p: string, enc: 'utf8'): string };
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return { renderer: 'ANGLE (headless-gl; driver unknown)', software: false };
  }
  const dri = [...new Set([...maps.matchAll(/\/dri\/(\w+)_dri\.so/g)].map((m) => m[1]!))];
  if (/libGLX_nvidia/.test(maps)) dri.push('nvidia');
  if (!dri.length) return { renderer: 'ANGLE (headless-gl; driver unknown)', software: false };
  const software = dri.every((d) => /swrast|softpipe|llvmpipe/.test(d));
  return { renderer: `ANGLE (headless-gl) on ${dri.join(', ')}${software ? ' (Mesa software rasteriser)' : ''}`, software };
}

/** Why headless-gl cannot start here, checked without making a context; null when it may. */
async function headlessGlMissing(): Promise<string | null> {
  const spec = 'gl';
  try {
    await import(/* @vite-ignore */ spec);
  } catch {
    return 'the `gl` package (gpu.js\'s optional dependency) is not installed or did not build; it builds from source when the X and GL headers are installed (docs/gpu.md)';
  }
  if (process.platform === 'linux' && !process.env.DISPLAY) return 'headless-gl needs an X display and DISPLAY is not set: run under `xvfb-run -a`';
  return null;
}

/** What to try when Dawn's `dawnBackend` found no adapter. */
function noDawnAdapter(dawnBackend: string): string {
  if (dawnBackend.startsWith('opengl')) {
    return "Dawn's OpenGL ES backend needs EGL and a GL driver, e.g. Mesa's: Debian packages libegl-dev (Dawn opens libEGL.so), libegl-mesa0, libgl1-mesa-dri";
  }
  return `Dawn's ${dawnBackend || 'default'} backend; on a GPU-less Linux host try dawnBackend: 'opengles' (Mesa llvmpipe)`;
}

/** Build a GPU instance for `kind` and run a probe kernel, checking the kernel class; else why not. */
async function tryKind(mod: GpuModule, kind: GpuBackendKind): Promise<Selected | string> {
  const { GPU } = mod;
  if (kind === 'headlessgl' && isNode) {
    const missing = await headlessGlMissing();
    if (missing) return missing;
    if (glStack === 'dawn-opengles') return `${GL_CLASH} Dawn's OpenGL ES backend`;
  }
  const supported: Record<GpuBackendKind, () => boolean> = {
    webgpu: () => navigatorGpu() !== null,
    webgl2: () => GPU.isWebGL2Supported,
    webgl: () => GPU.isWebGLSupported,
    // NOTE: this check makes a headless-gl context when it can.
    headlessgl: () => GPU.isHeadlessGLSupported,
    webasm: () => GPU.isWebAssemblySupported,
    cpu: () => true,
  };
  if (!supported[kind]()) {
    if (kind === 'headlessgl') return isNode ? 'headless-gl could not create a WebGL context' : 'headless-gl exists only in Node';
    return kind === 'webgpu' ? 'no navigator.gpu (WebGPU API) here' : `gpu.js reports no ${kind} support here`;
  }
  if (kind === 'headlessgl') glStack = 'headlessgl';
  let renderer = kind === 'webasm' ? 'WebAssembly (CPU)' : kind === 'cpu' ? 'JavaScript (CPU)' : 'unknown';
  let software = kind === 'webasm' || kind === 'cpu';
  // NOTE: webasm and cpu kernels take any number of arrays; 16 keeps generated sources short.
  let maxKernelInputs = 16;
  if (kind === 'webgpu') {
    const a = await webGpuAdapter();
    if (!a) return `WebGPU found no adapter${nodeWebGpu ? ` (${noDawnAdapter(nodeWebGpu.dawnBackend)})` : ''}`;
    ({ renderer, software, maxKernelInputs } = a);
    if (nodeWebGpu?.dawnBackend.startsWith('opengl')) glStack = 'dawn-opengles';
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
    if (name !== KERNEL_CLASS[kind] || !v || v[0] !== 2 || v[1] !== 3) throw new Error(`the probe kernel ran as ${name} and returned ${String(v)}`);
  } catch (e) {
    void Promise.resolve(gpu.destroy()).catch(() => undefined);
    return `a probe kernel failed on ${kind}: ${(e as Error).message}`;
  }
  if (kind === 'headlessgl') ({ renderer, software } = await headlessGlRenderer());
  else if (kind === 'webgl2' || kind === 'webgl') {
    renderer = glRenderer(gpu);
    software = SOFTWARE.test(renderer);
  }
  if (kind === 'headlessgl' || kind === 'webgl2' || kind === 'webgl') maxKernelInputs = glTextureUnits(gpu);
  return { kind, gpu, renderer, software, kernelClass: KERNEL_CLASS[kind], maxKernelInputs };
}

/** Pick and start a backend; throws, saying why, when an explicitly requested one is unavailable. */
export async function selectBackend(mod: GpuModule, opts: SelectOptions & { dawnBackend?: string }): Promise<Selected> {
  const want = opts.backend ?? 'auto';
  if (want !== 'auto') {
    const why = want === 'webgpu' && isNode ? await installNodeWebGpu(opts.dawnBackend) : null;
    const s = why ?? (await tryKind(mod, want));
    if (typeof s === 'string') throw new Error(`tensorgrad gpu: the gpu.js '${want}' backend is not available here: ${s}`);
    if (s.software && !opts.allowSoftware && want !== 'webasm' && want !== 'cpu') {
      void Promise.resolve(s.gpu.destroy()).catch(() => undefined);
      throw new Error(`tensorgrad gpu: '${want}' runs on a software renderer (${s.renderer}); pass allowSoftware: true to use it anyway`);
    }
    return s;
  }
  const order: GpuBackendKind[] = isNode ? ['webgpu', 'headlessgl'] : ['webgl2', 'webgpu', 'webgl'];
  const nodeWebGpuMissing = isNode ? await installNodeWebGpu(opts.dawnBackend) : null;
  for (const kind of order) {
    if (kind === 'webgpu' && nodeWebGpuMissing) continue;
    const s = await tryKind(mod, kind);
    if (typeof s === 'string') continue;
    if (!s.software || opts.allowSoftware) return s;
    // A software Dawn OpenGL ES adapter still blocks headless-gl in this process (tryKind says so).
    void Promise.resolve(s.gpu.destroy()).catch(() => undefined);
  }
  const s = await tryKind(mod, 'webasm');
  if (typeof s !== 'string') return s;
  const c = await tryKind(mod, 'cpu');
  if (typeof c === 'string') throw new Error(`tensorgrad gpu: no gpu.js backend could run a kernel (${c})`);
  return c;
}
