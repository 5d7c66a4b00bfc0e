declare module 'node-gyp-build' {
  /** Loads the prebuilt or locally built addon found from `dir`. */
  function nodeGypBuild(dir: string): unknown;
  export = nodeGypBuild;
}
