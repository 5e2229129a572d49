// Builds the pages the controller serves (src/pages/module.ts): /agent, /supervisor, /ops,
// each its own HTML entry, sharing web/shared (sign-in, API client, event stream, i18n).
// Output: web/dist (gitignored). `npm run build:web`; `npm run dev:web` serves them with
// the API proxied to a controller on REXIAN_DEV_API (default http://127.0.0.1:3000).
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.REXIAN_DEV_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root,
  base: '/',
  plugins: [vue()],
  define: {
    // Vue and vue-i18n feature flags: no options API, no devtools in production, and message
    // compilation without eval (the pages are served with script-src 'self', no unsafe-eval).
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __INTLIFY_JIT_COMPILATION__: 'true',
    __INTLIFY_DROP_MESSAGE_COMPILER__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The agent page's budget is 400 kB of gzipped JavaScript (issue 14); warn well before.
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      input: {
        agent: `${root}agent/index.html`,
        supervisor: `${root}supervisor/index.html`,
        ops: `${root}ops/index.html`,
      },
    },
  },
  server: { proxy: { '/api': { target: api, ws: true } } },
});
