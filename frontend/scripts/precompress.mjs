// Writes a brotli (.br) and a gzip (.gz) copy beside every text file of the build, compressed once
// at the highest levels: nginx serves the .gz copies as they are (gzip_static in nginx.conf), and
// the backend's embedded mode (backend/app/api/spa.py) sends the .br to browsers that accept it,
// else the .gz. A copy that would not be smaller than its file is not written.
// Runs as the last step of `vite build` (vite.config.ts), or by hand: node scripts/precompress.mjs DIR
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

/** As COMPRESSIBLE and MIN_GZIP_BYTES in backend/app/api/spa.py. */
export const COMPRESSIBLE = [".js", ".mjs", ".css", ".html", ".svg", ".json", ".webmanifest", ".txt", ".map"];
export const MIN_BYTES = 1024;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/** Compresses the text files under `dir`; returns how many copies it wrote. */
export function precompressDir(dir) {
  let written = 0;
  for (const path of files(dir)) {
    if (!COMPRESSIBLE.some((ext) => path.endsWith(ext)) || statSync(path).size < MIN_BYTES) continue;
    const raw = readFileSync(path);
    const br = brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    });
    const gz = gzipSync(raw, { level: 9 });
    for (const [suffix, body] of [[".br", br], [".gz", gz]]) {
      if (body.length >= raw.length) continue;
      writeFileSync(path + suffix, body);
      written++;
    }
  }
  return written;
}

/** The Vite plugin: compresses the output directory once the build has written it. */
export function precompress() {
  let outDir = "dist";
  return {
    name: "unity-precompress",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const n = precompressDir(outDir);
      console.log(`precompress: wrote ${n} .br/.gz copies in ${outDir}`);
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: node scripts/precompress.mjs DIR");
    process.exit(2);
  }
  console.log(`precompress: wrote ${precompressDir(resolve(dir))} .br/.gz copies in ${resolve(dir)}`);
}
