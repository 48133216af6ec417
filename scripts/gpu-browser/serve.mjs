// A tiny static server for the browser GPU tests. COOP/COEP make the page crossOriginIsolated,
// which gpu.js's threaded WebAssembly needs (SharedArrayBuffer). Serves files under `root` only.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json' };

/** Start serving `routes` (url path -> file path); resolves to { url, close }. */
export function serve(routes) {
  const server = createServer(async (req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname);
    const file = routes[path];
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
    if (!file || file.split(sep).includes('..')) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    try {
      const body = await readFile(join(file));
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, headers).end('not found');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
