/**
 * The two esbuild plugins of bundleModule:
 *
 * - `nativeExternals`: a bare import of an installed native addon (see native-packages.ts) is kept
 *   out of the bundle, and the reason recorded, instead of failing the build ("No loader is
 *   configured for .node files") or, worse, bundling a loader that cannot find its binary later.
 * - `ownImportMeta`: `import.meta.url` (and `.dirname`, `.filename`) in the user's files is that
 *   file's own location, not the agent's cache file. esbuild's `define` is one value for the whole
 *   bundle, so each file that mentions `import.meta` is transformed on its own with its values
 *   defined; the inline source map of that step is chained into the bundle's by esbuild.
 */
import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { dirname, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transform, type Loader, type Plugin } from 'esbuild';
import { findPackageDir, nativeReason, packageNameOf } from './native-packages.js';

/** Package name → why it was kept external. Filled while the build runs. */
export type NativeFindings = Map<string, string>;

export function nativeExternals(found: NativeFindings): Plugin {
  return {
    name: 'clustrix-native-externals',
    setup(build) {
      // Bare specifiers only: relative and absolute paths are the user's own files.
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (isBuiltin(args.path)) return undefined;
        const name = packageNameOf(args.path);
        if (name === undefined) return undefined;
        const dir = findPackageDir(name, args.resolveDir);
        const reason = dir === undefined ? null : nativeReason(dir);
        if (reason === null) return undefined;
        if (!found.has(name)) found.set(name, reason);
        return { path: args.path, external: true };
      });
    },
  };
}

const LOADERS: Readonly<Record<string, Loader>> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

export function ownImportMeta(): Plugin {
  return {
    name: 'clustrix-own-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        // Packages are left as esbuild loads them: their import.meta is not the user's concern.
        if (args.namespace !== 'file' || args.path.includes('/node_modules/')) return undefined;
        const loader = LOADERS[extname(args.path)];
        if (loader === undefined) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta')) return undefined;
        let result;
        try {
          result = await transform(text, {
            loader,
            sourcefile: args.path,
            sourcemap: 'inline',
            define: {
              'import.meta.url': JSON.stringify(pathToFileURL(args.path).href),
              'import.meta.filename': JSON.stringify(args.path),
              'import.meta.dirname': JSON.stringify(dirname(args.path)),
            },
            logLevel: 'silent',
          });
        } catch {
          return undefined; // a syntax error: esbuild's own load reports it, with its location
        }
        return { contents: result.code, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}
