import { createReadStream, existsSync, statSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".onnx": "application/octet-stream",
  ".bin": "application/octet-stream",
};

/**
 * A static file server on 127.0.0.1 for the browser tests: each URL prefix maps to a folder (or one
 * file), nothing else is served. Pages are given inline as `pages`.
 */
export async function serveStatic(routes: Record<string, string>, pages: Record<string, string> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    if (path in pages) {
      res.writeHead(200, { "content-type": TYPES[".html"]! }).end(pages[path]);
      return;
    }
    for (const [prefix, root] of Object.entries(routes)) {
      if (!path.startsWith(prefix)) continue;
      const rest = normalize(path.slice(prefix.length)).replace(/^(\.\.[/\\])+/, "");
      const file = rest === "" || rest === "." ? root : join(root, rest);
      if (existsSync(file) && statSync(file).isFile()) {
        res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
        createReadStream(file).pipe(res);
        return;
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
