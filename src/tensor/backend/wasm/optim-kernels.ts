/**
 * Fused optimizer updates in WebAssembly SIMD (Adam's kernel lives with the reductions, in
 * reduce-kernels.ts, where it was written first).
 */
import type { ModuleBuilder } from './emit.js';

/**
 * Flag bits of the `sgd` kernel.
 * @example
 * const flags = SGD_FLAGS.momentum | SGD_FLAGS.nesterov;
 */
export const SGD_FLAGS = { momentum: 1, first: 2, nesterov: 4, weightDecay: 8 } as const;

/**
 * sgd(p, g, buf, n, gSign, wd, momentum, omd, negLr, flags): one torch.optim.SGD step over n
 * floats in place, in PyTorch's order of float32 operations:
 *
 * ```
 * d = gSign·g;  if wd: d = d + wd·p
 * if momentum: buf = first ? d : buf·momentum + omd·d   (omd = 1 - dampening)
 *              d = nesterov ? d + momentum·buf : buf
 * p = p + negLr·d
 * ```
 * @example
 * emitOptimizers(m); // adds the `sgd` export
 */
export function emitOptimizers(m: ModuleBuilder): void {
  m.fn('sgd', ['i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'i32'], [], (f) => {
    const [p, g, buf, n] = [0, 1, 2, 3];
    const flags = 9;
    const [end, mom, first, nest, wd] = [f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32'), f.local('i32')];
    const [dv, pv, bv] = [f.local('v128'), f.local('v128'), f.local('v128')];
    const [sign, wdv, momv, omd, nlr] = Array.from({ length: 5 }, (_, i) => {
      const l = f.local('v128');
      f.get(4 + i).op('f32x4.splat').set(l);
      return l;
    }) as [number, number, number, number, number];
    f.get(flags).i32(SGD_FLAGS.momentum).op('i32.and').set(mom);
    f.get(flags).i32(SGD_FLAGS.first).op('i32.and').set(first);
    f.get(flags).i32(SGD_FLAGS.nesterov).op('i32.and').set(nest);
    f.get(flags).i32(SGD_FLAGS.weightDecay).op('i32.and').set(wd);
    f.get(p).get(n).i32(4).op('i32.mul', 'i32.add').set(end);
    f.get(p).get(end).op('i32.lt_u').if(() => f.loop(() => {
      f.get(g).mem('v128.load').get(sign).op('f32x4.mul').set(dv);
      f.get(p).mem('v128.load').set(pv);
      f.get(wd).if(() => f.get(dv).get(pv).get(wdv).op('f32x4.mul', 'f32x4.add').set(dv));
      f.get(mom).if(() => {
        f.get(first).if(
          () => f.get(dv).set(bv),
          () => f.get(buf).mem('v128.load').get(momv).op('f32x4.mul').get(dv).get(omd).op('f32x4.mul', 'f32x4.add').set(bv),
        );
        f.get(buf).get(bv).mem('v128.store');
        f.get(nest).if(
          () => f.get(dv).get(bv).get(momv).op('f32x4.mul', 'f32x4.add').set(dv),
          () => f.get(bv).set(dv),
        );
        f.inc(buf, 16);
      });
      f.get(p).get(pv).get(dv).get(nlr).op('f32x4.mul', 'f32x4.add').mem('v128.store');
      f.inc(p, 16).inc(g, 16);
      f.get(p).get(end).op('i32.lt_u').brIf(0);
    }));
  });
}
