/**
 * The Node device suites (test/gpu/{ops,training,optimizers,fusion}, test/nn/device,
 * test/optim2/{device,device-wrappers,async-step}), unchanged, in headless Chromium: run.mjs bundles this file with
 * `vitest` aliased to vitest-shim.ts and test/gpu/devices.ts swapped for ./devices.ts, so each
 * suite runs on the CPU and on device 'gpu' on the page's backend. Results land in
 * `window.__results` as suite.ts's do. `?grep=` keeps the tests whose full name matches.
 */
import { run } from './vitest-shim.js';
import '../../test/gpu/ops.test.js';
import '../../test/gpu/training.test.js';
import '../../test/gpu/optimizers.test.js';
import '../../test/gpu/fusion.test.js';
import '../../test/nn/device.test.js';
import '../../test/optim2/device.test.js';
import '../../test/optim2/device-wrappers.test.js';
import '../../test/optim2/async-step.test.js';

const grep = new URLSearchParams(location.search).get('grep');
// NOTE: no top-level await: the page's load event would wait for every suite.
void run(grep ? new RegExp(grep) : undefined).then((results) => {
  (window as unknown as { __results: unknown }).__results = results;
});
