// The offline GraphiQL page: built into dist/graphiql/ (assets under /console/graphiql/), rendered by
// Yoga at GET /graphql through `renderGraphiQL`. Its own build, so the console's size budget is its own.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: `${import.meta.dirname}/graphiql`,
  base: '/console/graphiql/',
  plugins: [react()],
  build: { outDir: '../dist/graphiql', emptyOutDir: true, target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 4000 },
});
