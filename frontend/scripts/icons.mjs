// Renders the app icons' PNGs from their SVGs with Debian's Chromium (no network, no extra
// package): `node scripts/icons.mjs` after editing public/favicon.svg or public/icon-maskable.svg.
// The PNGs are committed; phones that ignore SVG icons (iOS, older Android) use them.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const PUBLIC = new URL("../public/", import.meta.url);
const ICONS = [
  ["favicon.svg", "icon-192.png", 192],
  ["favicon.svg", "icon-512.png", 512],
  ["icon-maskable.svg", "icon-maskable-512.png", 512],
  // iOS rounds the corners itself and shows transparency as black: the square one.
  ["icon-maskable.svg", "apple-touch-icon.png", 180],
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  for (const [svg, png, size] of ICONS) {
    const src = readFileSync(new URL(svg, PUBLIC), "utf8");
    await page.setViewportSize({ width: size, height: size });
    const html = `<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${src}`;
    await page.setContent(html);
    await page.screenshot({ path: new URL(png, PUBLIC).pathname, omitBackground: true });
    console.log(`public/${png}: ${size}x${size}`);
  }
} finally {
  await browser.close();
}
