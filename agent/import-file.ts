/**
 * What the agent's bundle is run with when agent/boot.ts loads it from V8's code cache: a script
 * compiled by `vm.Script` cannot use `import()` itself, so boot (an ES module) lends its own.
 */
declare const __clustrixHost: { import(url: string): Promise<unknown> } | undefined;

/** Imports a file by URL: directly, or through boot's `import()` inside the cached bundle. */
export function importFile(url: string): Promise<unknown> {
  return typeof __clustrixHost === 'undefined' ? import(url) : __clustrixHost.import(url);
}
