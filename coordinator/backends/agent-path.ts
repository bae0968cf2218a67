import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The agent entry to start: the one-file bundle when it was built, else the compiled main.js.
 * Both live in this package's dist/, next to this module's own compiled file.
 */
export function agentEntryPath(): string {
  const bundle = fileURLToPath(new URL('../../bundle/agent.cjs', import.meta.url));
  if (existsSync(bundle)) return bundle;
  const compiled = fileURLToPath(new URL('../../agent/main.js', import.meta.url));
  if (existsSync(compiled)) return compiled;
  throw new Error(`no agent build found (looked for ${bundle}); run \`npm run build\``);
}
