// The package entry (dist/index.js): the build keeps src/ and generated/ side by side under dist/,
// so this file sits at the root to give the package the entry its package.json names.
export * from './src/index.js';
