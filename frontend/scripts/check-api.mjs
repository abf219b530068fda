// Fails when src/api/schema.d.ts is stale against openapi.json (run `npm run gen:api` to fix).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "unity-api-"));
try {
  const out = join(dir, "schema.d.ts");
  execFileSync(
    process.execPath,
    [join(root, "node_modules/openapi-typescript/bin/cli.js"), join(root, "openapi.json"), "-o", out],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const fresh = readFileSync(out, "utf8");
  const committed = readFileSync(join(root, "src/api/schema.d.ts"), "utf8");
  if (fresh !== committed) {
    console.error("src/api/schema.d.ts is stale against openapi.json: run `npm run gen:api` and commit the result.");
    process.exit(1);
  }
  console.log("check:api: src/api/schema.d.ts matches openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
