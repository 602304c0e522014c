// Vite build of the portal: a static bundle in dist/ (hashed names under assets/), served by
// `gpuaas server`. `npm run dev` proxies the API to a local server on :8080.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/notebooks": { target: "http://127.0.0.1:8080", ws: true },
    },
  },
});
