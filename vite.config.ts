import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { offline } from './scripts/offline-plugin.ts';

export default defineConfig({
  // offline(): a service worker precaching every built file, so the installed app works without a network.
  plugins: [svelte(), offline()],
  // Pre-bundling onnxruntime-web breaks its .wasm URL in the dev server ("expected magic word 00 61 73 6d").
  // The worker files are crawled too, so their dependencies are pre-bundled at start-up
  // (found late, they made the dev server reload the page on the first click).
  optimizeDeps: { exclude: ['onnxruntime-web'], entries: ['index.html', 'workers/*.ts'] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  server: {
    // The dev server is cross-origin isolated so onnxruntime-web can use threads.
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
});
