// The console: built into dist/ with base /console/, served by Switchyard (src/console/serve.ts).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022', reportCompressedSize: false },
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:8080', ws: true } } },
});
