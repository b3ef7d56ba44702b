// Builds the explorer into dist/, which the API serves at "/" (api/app.py).
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `npm run dev` proxies the API running on its default port.
    proxy: {
      "/auth": "http://127.0.0.1:8000",
      "/graphql": "http://127.0.0.1:8000",
      "/health": "http://127.0.0.1:8000",
    },
  },
});
