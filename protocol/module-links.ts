/**
 * How a module bundle tells the agent where its external packages are (native addons, and what the
 * user named in `external`): a block comment opening the bundle's first line,
 *
 *   /*clustrix:links {"@node-rs/xxhash":"~/.clustrix/cache/npm-…/node_modules/@node-rs/xxhash"}*\/import …
 *
 * mapping each package name to its directory as the agents see it (`~/` is the agent's home). The
 * agent writes the bundle into a directory of its own and links `node_modules/<name>` there to
 * each directory, so Node's own resolution finds the package from the bundle (ESM `import`) and,
 * the links being followed to their real paths, the package's own `require`s find its
 * dependencies and its addon beside it.
 *
 * It travels inside the source rather than as a message field so that the content hash covers it
 * (the same bundle with other links is other code) and every path that carries code (coordinator,
 * service, worker threads) carries it unchanged. It sits on line 1, before the banner, so the
 * bundle's source map (which counts lines) stays true.
 */

export type ModuleLinks = Readonly<Record<string, string>>;

const PREFIX = '/*clustrix:links ';
const SUFFIX = '*/';

/** The bundle with its links in front; the bundle itself when there are none. */
export function withLinks(source: string, links: ModuleLinks): string {
  if (Object.keys(links).length === 0) return source;
  // `*/` inside a path would end the comment; `\/` is the same character to JSON.
  const json = JSON.stringify(links).replaceAll('*/', '*\\/');
  return `${PREFIX}${json}${SUFFIX}${source}`;
}

/** The links a bundle carries ({} when none), or an Error when its header is malformed. */
export function readLinks(source: string): ModuleLinks | Error {
  if (!source.startsWith(PREFIX)) return {};
  const end = source.indexOf(SUFFIX, PREFIX.length);
  if (end < 0) return new Error('the module header is not closed');
  let parsed: unknown;
  try {
    parsed = JSON.parse(source.slice(PREFIX.length, end));
  } catch (error) {
    return new Error(`the module header is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return new Error('the module header is not an object');
  const links: Record<string, string> = {};
  for (const [name, dir] of Object.entries(parsed)) {
    if (typeof dir !== 'string' || !isPackageName(name)) return new Error(`the module header has a bad entry ${JSON.stringify(name)}`);
    links[name] = dir;
  }
  return links;
}

/** `name` or `@scope/name`, nothing that climbs out of node_modules. */
export function isPackageName(name: string): boolean {
  return /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name) && !name.split('/').some((part) => part === '.' || part === '..');
}
