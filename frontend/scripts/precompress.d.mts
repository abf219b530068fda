// Types for precompress.mjs, which vite.config.ts imports.
import type { Plugin } from "vite";

export const COMPRESSIBLE: string[];
export const MIN_BYTES: number;
export function precompressDir(dir: string): number;
export function precompress(): Plugin;
