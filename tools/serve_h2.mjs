// Serve the built site as GitHub Pages serves it: HTTP/2 over TLS, text gzip-compressed, on
// 127.0.0.1 only. For `make lighthouse` (tools/lighthouse.py, which makes the certificate and
// starts this); Node's own http2 module, no package.
//   node tools/serve_h2.mjs SITE_DIR PORT CERT.pem KEY.pem
import { readFileSync, statSync } from "node:fs";
import http2 from "node:http2";
import path from "node:path";
import zlib from "node:zlib";

const [site, port, cert, key] = process.argv.slice(2);
const root = path.resolve(site);
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".txt": "text/plain; charset=utf-8",
  ".xml": "application/xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".pdf": "application/pdf",
};
// The text types a static host compresses, at gzip level 6 (GZIP_LEVEL in tests/book/test_browser.py,
// which counts a page's weight with it).
const COMPRESSIBLE = new Set([".html", ".css", ".js", ".svg", ".json", ".txt", ".xml", ".map"]);
const gzipped = new Map(); // compressed once, as a CDN keeps it: the response time is the network's

function file(urlPath) {
  let name = path.join(root, decodeURIComponent(urlPath.split("?")[0]));
  if (name !== root && !name.startsWith(root + path.sep)) return null;
  try {
    if (statSync(name).isDirectory()) name = path.join(name, "index.html");
    return statSync(name).isFile() ? name : null;
  } catch {
    return null;
  }
}

const server = http2.createSecureServer({ cert: readFileSync(cert), key: readFileSync(key), allowHTTP1: true }, (req, res) => {
  const name = file(req.url);
  if (name === null) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("not found\n");
    return;
  }
  const ext = path.extname(name).toLowerCase();
  const headers = { "content-type": TYPES[ext] ?? "application/octet-stream", "cache-control": "max-age=600" };
  let body = readFileSync(name);
  if (COMPRESSIBLE.has(ext)) {
    headers.vary = "Accept-Encoding";
    if (/\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
      if (!gzipped.has(name)) gzipped.set(name, zlib.gzipSync(body, { level: 6 }));
      body = gzipped.get(name);
      headers["content-encoding"] = "gzip";
    }
  }
  headers["content-length"] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
});
server.on("error", (err) => {
  console.error(`serve_h2: ${err.message}`);
  process.exit(1);
});
server.listen(Number(port), "127.0.0.1", () => console.log(`serving https://127.0.0.1:${server.address().port}/`));
