// CSS imports are bundled by esbuild into dist/webview/<entry>.css.
declare module '*.css';
