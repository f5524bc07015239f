/// <reference types="vitest/config" />
// Built assets go to dist/ (served by the service at `/`); every file under dist/assets has a content hash in
// its name, so the service caches it for a year. No inline scripts or styles: the page runs under a strict
// Content-Security-Policy (script-src 'self', style-src 'self').
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    assetsDir: "assets",
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` serves the sources with hot reload and forwards the API to a running `make run`.
    proxy: { "/api": { target: "http://127.0.0.1:8000", ws: true } },
  },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
