/**
 * The gpu device behind tensorgrad's `Backend` interface. Ops on device tensors run as
 * generated gpu.js kernels (kernels.ts) and leave their results on the device; host-resident
 * tensors (small ones, float64) run on the CPU kernels; an op mixing the two uploads the host
 * operands for that launch. Shapes, broadcasting and dtypes were settled by the Tensor layer.
 */
import { withoutResidentResults } from '../wasm/resident-storage.js';
import { allocArray, type DType, type TypedArray } from '../../dtype.js';
import { contiguousStrides, numel } from '../../shape.js';
import type { ArgReduceOp, Backend, BinaryOp, ReduceOp, UnaryOp, View } from '../backend.js';
import { cpuBackend } from '../cpu.js';
import * as K from './kernels.js';
import { MAX_DEVICE_ELEMENTS, tooLarge, type Handle, type Runtime } from './runtime.js';
import { GpuStorage } from './storage.js';

export interface GpuBackendOptions {
  /** Tensors with fewer elements are created on the host (CPU kernels); measured per backend. */
  readonly hostThreshold: number;
}

/** The Backend, plus what `tg.gpu` and `Tensor.data()` need beyond it. */
export interface GpuBackend extends Backend {
  readonly runtime: Runtime;
  hostThreshold: number;
  readAsync(x: View): Promise<TypedArray>;
  /** Whether `read` can run synchronously for this view. */
  canReadSync(x: View): boolean;
  /** The layout a kernel reads `x` through: its view of its storage's whole buffer. */
  argLayout(x: View): K.ArgLayout;
  /**
   * Launch `spec` on the buffers of `xs` (host-resident ones are uploaded for this launch) and
   * then the number arguments: fused kernels built outside this file (optimizer updates).
   */
  launchKernel(spec: K.KernelSpec, xs: readonly View[], numbers?: readonly number[]): Handle;
}

function toDtype(f: Float32Array, dtype: DType): TypedArray {
  if (dtype === 'float32') return f;
  const out = allocArray(dtype, f.length);
  out.set(f);
  return out;
}

export function createGpuBackend(rt: Runtime, opts: GpuBackendOptions): GpuBackend {
  const storageOf = (x: View): GpuStorage => {
    const s = x.storage;
    if (!(s instanceof GpuStorage)) throw new Error(`tensorgrad gpu: expected a gpu tensor, got one on '${s.device}'`);
    if (s.runtime !== rt) throw new Error('tensorgrad gpu: this tensor belongs to a gpu backend that was replaced by tg.gpu.init(); create it again');
    s.assertLive();
    return s;
  };
  const layout = (x: View, s: GpuStorage): K.ArgLayout => ({ shape: x.shape, strides: x.strides, offset: x.offset, length: s.length });

  /** A device view over a fresh buffer. */
  const deviceView = (h: Handle, shape: readonly number[], dtype: DType): View => ({
    storage: GpuStorage.onDevice(rt, h, dtype),
    shape: [...shape],
    strides: contiguousStrides(shape),
    offset: 0,
    dtype,
  });

  /** Wrap a CPU kernel's result as gpu storage: on the host, or uploaded when it is large. */
  const fromCpuView = (v: View): View => {
    const data = v.storage.data;
    const storage = v.dtype !== 'float64' && data.length >= be.hostThreshold ? GpuStorage.onDevice(rt, upload(data), v.dtype) : GpuStorage.onHost(rt, data, v.dtype);
    return { storage, shape: v.shape, strides: v.strides, offset: v.offset, dtype: v.dtype };
  };

  const upload = (data: TypedArray): Handle => rt.upload(data instanceof Float32Array ? data : Float32Array.from(data));

  /** Device arguments for one launch; host operands are uploaded and freed after it. */
  const launch = (spec: K.KernelSpec, xs: readonly View[], numbers: readonly number[] = []): Handle => {
    const temps: Handle[] = [];
    const handles = xs.map((x) => {
      const s = storageOf(x);
      if (s.handle) return s.handle;
      const h = upload(s.data);
      temps.push(h);
      return h;
    });
    const k = rt.kernel(spec.key, spec.length, spec.source);
    const out = rt.run(k, [...handles, ...numbers]);
    for (const t of temps) rt.free(t);
    return out;
  };

  const args = (xs: readonly View[]): K.ArgLayout[] => xs.map((x) => layout(x, storageOf(x)));

  /** True when the op should run on the CPU kernels: all operands on the host, or float64 anywhere. */
  const onHost = (xs: readonly View[], outDtype: DType): boolean => outDtype === 'float64' || xs.every((x) => storageOf(x).onHost) || xs.some((x) => x.dtype === 'float64');

  /** A CPU view of `x` (host storage is read in place; device storage is read back). */
  const cpuView = (x: View): View => {
    const s = storageOf(x);
    if (s.onHost) return x;
    rt.stats.hostFallbacks++;
    const data = toDtype(rt.readSync(s.handle!), s.dtype);
    return { storage: { data, device: 'cpu', version: 0 }, shape: x.shape, strides: x.strides, offset: x.offset, dtype: x.dtype };
  };
  // NOTE: host results stay ordinary arrays even inside tg.scope(): gpu storage keeps the array
  // itself, so no tensor would own (and free) a block of wasm memory.
  const onCpu = (xs: readonly View[], f: (cpuXs: View[]) => View): View => fromCpuView(withoutResidentResults(() => f(xs.map(cpuView))));

  const checkSize = (shape: readonly number[]): void => {
    const n = numel(shape);
    if (n > MAX_DEVICE_ELEMENTS) throw tooLarge(n);
  };

  const ew = (name: string, shape: readonly number[], xs: readonly View[], dtype: DType, body: (v: string[]) => string[]): View => {
    checkSize(shape);
    return deviceView(launch(K.elementwise(name, shape, args(xs), body), xs), shape, dtype);
  };

  const readDevice = (x: View, s: GpuStorage): { h: Handle; temp: boolean } => {
    const dense = x.offset === 0 && numel(x.shape) === s.length && x.strides.every((st, i) => st === contiguousStrides(x.shape)[i] || x.shape[i] === 1);
    if (dense) return { h: s.handle!, temp: false };
    return { h: launch(K.elementwise('copy', x.shape, args([x]), (v) => [`return ${v[0]};`]), [x]), temp: true };
  };

  const be: GpuBackend = {
    device: 'gpu',
    runtime: rt,
    hostThreshold: opts.hostThreshold,

    fromArray(data, shape) {
      const dtype: DType = data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'bool';
      const n = numel(shape);
      if (dtype !== 'float64' && n >= be.hostThreshold) {
        if (n > MAX_DEVICE_ELEMENTS) throw tooLarge(n);
        return deviceView(upload(data), shape, dtype);
      }
      return { storage: GpuStorage.onHost(rt, data, dtype), shape: [...shape], strides: contiguousStrides(shape), offset: 0, dtype };
    },

    read(x) {
      const s = storageOf(x);
      if (s.onHost) return cpuBackend.read(x);
      const { h, temp } = readDevice(x, s);
      try {
        return toDtype(rt.readSync(h), x.dtype);
      } finally {
        if (temp) rt.free(h);
      }
    },

    async readAsync(x) {
      const s = storageOf(x);
      if (s.onHost) return cpuBackend.read(x);
      const { h, temp } = readDevice(x, s);
      try {
        return toDtype(await rt.read(h), x.dtype);
      } finally {
        if (temp) rt.free(h);
      }
    },

    canReadSync: (x) => rt.sync || storageOf(x).onHost,
    argLayout: (x) => layout(x, storageOf(x)),
    launchKernel: launch,

    contiguous(x) {
      if (onHost([x], x.dtype)) return onCpu([x], ([c]) => cpuBackend.contiguous(c!));
      return ew('copy', x.shape, [x], x.dtype, (v) => [`return ${v[0]};`]);
    },

    cast(x, dtype) {
      if (onHost([x], dtype)) return onCpu([x], ([c]) => cpuBackend.cast(c!, dtype));
      return ew(`cast:${dtype}`, x.shape, [x], dtype, (v) => K.castSrc(dtype)(v[0]!));
    },

    unary(op: UnaryOp, x, outDtype) {
      if (onHost([x], outDtype)) return onCpu([x], ([c]) => cpuBackend.unary(op, c!, outDtype));
      return ew(`u:${op}`, x.shape, [x], outDtype, (v) => K.UNARY_SRC[op](v[0]!));
    },

    erf(x) {
      if (onHost([x], x.dtype)) return null;
      return ew('u:erf', x.shape, [x], x.dtype, (v) => K.ERF_SRC(v[0]!));
    },

    binary(op: BinaryOp, a, b, outDtype) {
      if (onHost([a, b], outDtype)) return onCpu([a, b], ([x, y]) => cpuBackend.binary(op, x!, y!, outDtype));
      return ew(`b:${op}`, a.shape, [a, b], outDtype, (v) => K.BINARY_SRC[op](v[0]!, v[1]!));
    },

    where(cond, a, b) {
      if (onHost([cond, a, b], a.dtype)) return onCpu([cond, a, b], ([c, x, y]) => cpuBackend.where(c!, x!, y!));
      return ew('where', a.shape, [cond, a, b], a.dtype, (v) => [`return ${v[0]} != 0 ? ${v[1]} : ${v[2]};`]);
    },

    reduce(op: ReduceOp, x, axes, outDtype) {
      if (onHost([x], outDtype)) return onCpu([x], ([c]) => cpuBackend.reduce(op, c!, axes, outDtype));
      const spec = K.reduce(op, args([x])[0]!, axes);
      return deviceView(launch(spec, [x]), x.shape.map((d, i) => (axes.includes(i) ? 1 : d)), outDtype);
    },

    argReduce(op: ArgReduceOp, x, axis) {
      if (onHost([x], 'int32')) return onCpu([x], ([c]) => cpuBackend.argReduce(op, c!, axis));
      const spec = K.argReduce(op, args([x])[0]!, axis);
      return deviceView(launch(spec, [x]), x.shape.map((d, i) => (i === axis ? 1 : d)), 'int32');
    },

    thresholdBackward(g, x, threshold) {
      if (onHost([g, x], g.dtype) || !Number.isFinite(threshold)) return null;
      // NOTE: NaN in x compares false and keeps g, as the composite where(x <= t, 0, g) does.
      return ew(`tb:${threshold}`, g.shape, [g, x], g.dtype, (v) => [`return ${v[1]} <= ${threshold} ? 0 : ${v[0]};`]);
    },

    softmax(x, axis, log) {
      if (onHost([x], x.dtype) || x.dtype !== 'float32' || numel(x.shape) === 0) return null;
      checkSize(x.shape);
      const [lx] = args([x]);
      const stats = deviceView(launch(K.rowStats(lx!, [axis], 'stats'), [x]), [2 * (numel(x.shape) / x.shape[axis]!)], 'float32');
      const out = deviceView(launch(K.softmaxFromStats(lx!, [axis], log), [x, stats]), x.shape, 'float32');
      (stats.storage as GpuStorage).dispose();
      return out;
    },

    logsumexp(x, axes) {
      if (onHost([x], x.dtype) || x.dtype !== 'float32' || numel(x.shape) === 0) return null;
      const [lx] = args([x]);
      return deviceView(launch(K.rowStats(lx!, axes, 'lse'), [x]), x.shape.map((d, i) => (axes.includes(i) ? 1 : d)), 'float32');
    },

    matmul(a, b) {
      if (onHost([a, b], a.dtype)) return onCpu([a, b], ([x, y]) => cpuBackend.matmul(x!, y!));
      const r = a.shape.length;
      const shape = [...a.shape.slice(0, r - 1), b.shape[r - 1]!];
      checkSize(shape);
      const [la, lb] = args([a, b]);
      return deviceView(launch(K.matmul(la!, lb!), [a, b]), shape, a.dtype);
    },

    matmulBias(a, b, bias, activation) {
      if (onHost([a, b, bias], a.dtype)) return null;
      const r = a.shape.length;
      const shape = [...a.shape.slice(0, r - 1), b.shape[r - 1]!];
      checkSize(shape);
      const [la, lb, lc] = args([a, b, bias]);
      return deviceView(launch(K.matmul(la!, lb!, lc!, activation), [a, b, bias]), shape, a.dtype);
    },

    gather(x, dim, index) {
      if (onHost([x, index], x.dtype)) return onCpu([x, index], ([c, i]) => cpuBackend.gather(c!, dim, i!));
      checkSize(index.shape);
      const [lx, li] = args([x, index]);
      return deviceView(launch(K.gather(lx!, dim, li!), [x, index]), index.shape, x.dtype);
    },

    scatter(self, dim, index, src, accumulate) {
      if (onHost([self, index, src], self.dtype)) return onCpu([self, index, src], ([s, i, v]) => cpuBackend.scatter(s!, dim, i!, v!, accumulate));
      checkSize(self.shape);
      const [ls, li, lv] = args([self, index, src]);
      return deviceView(launch(K.scatter(ls!, dim, li!, lv!, accumulate), [self, index, src]), self.shape, self.dtype);
    },

    cat(xs, dim) {
      const dtype = xs[0]!.dtype;
      if (onHost(xs, dtype)) return onCpu(xs, (cs) => cpuBackend.cat(cs, dim));
      const most = Math.min(rt.maxKernelInputs, 8);
      if (xs.length > most) {
        // NOTE: a shader binds a limited number of textures (GL) or storage buffers (WebGPU: 8 by
        // default, the output included), so long lists are joined in groups.
        const head = be.cat(xs.slice(0, most), dim);
        const out = be.cat([head, ...xs.slice(most)], dim);
        (head.storage as GpuStorage).dispose();
        return out;
      }
      const spec = K.cat(args(xs), dim);
      const shape = [...xs[0]!.shape];
      shape[dim] = xs.reduce((s, x) => s + x.shape[dim]!, 0);
      checkSize(shape);
      return deviceView(launch(spec, xs), shape, dtype);
    },

    copyInto(dst, src) {
      const ds = storageOf(dst);
      const ss = storageOf(src);
      if ((ds.onHost && ss.onHost) || dst.dtype === 'float64') {
        cpuBackend.copyInto(dst, cpuView(src));
        return;
      }
      if (ds.onHost) ds.setHandle(upload(ds.data));
      const dense = dst.offset === 0 && numel(dst.shape) === ds.length && dst.strides.every((st, i) => st === contiguousStrides(dst.shape)[i] || dst.shape[i] === 1);
      const [ld, lsrc] = args([dst, src]);
      if (dense) {
        ds.setHandle(launch(K.elementwise(`cast:${dst.dtype}`, dst.shape, [lsrc!], (v) => K.castSrc(dst.dtype)(v[0]!)), [src]));
        return;
      }
      const order = K.nestedOrder(ld!);
      if (order) {
        const whole: View = { storage: ds, shape: [ds.length], strides: [1], offset: 0, dtype: dst.dtype };
        ds.setHandle(launch(K.writeInto(ld!, order, lsrc!, dst.dtype), [whole, src]));
        return;
      }
      // Overlapping strides (rare): write on the host and upload the storage again.
      rt.stats.hostFallbacks++;
      const data = toDtype(rt.readSync(ds.handle!), ds.dtype);
      cpuBackend.copyInto({ storage: { data, device: 'cpu', version: 0 }, shape: dst.shape, strides: dst.strides, offset: dst.offset, dtype: dst.dtype }, cpuView(src));
      ds.setHandle(upload(data));
    },
  };
  return be;
}
