// Builds the web pages into dist/, which the API serves at "/" (api/app.py): the explorer
// and workbench (index.html) and the rule editor (rules.html, React + @gorules/jdm-editor),
// two entries so that the explorer's bundle carries none of the editor's.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  base: "./",
  resolve: {
    alias: {
      // The JDM editor imports monaco-editor only for the marker severities of its
      // JavaScript function node, which ChainLens rule sets refuse (decisions/engine.py);
      // a four-constant stand-in keeps the whole of Monaco out of the bundle.
      "monaco-editor": here("src/monaco-stub.js"),
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: { main: here("index.html"), rules: here("rules.html") },
      onwarn(warning, warn) {
        // antd's modules start with "use client" (React server components), meaningless here.
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
  server: {
    // `npm run dev` proxies the API running on its default port.
    proxy: {
      "/auth": "http://127.0.0.1:8000",
      "/graphql": "http://127.0.0.1:8000",
      "/health": "http://127.0.0.1:8000",
      "/me": "http://127.0.0.1:8000",
    },
  },
});
