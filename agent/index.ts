/**
 * The agent process. Run it as `node dist/bundle/agent.cjs` (or `node dist/agent/main.js`) with
 * CLUSTRIX_URL and CLUSTRIX_TOKEN (or _FILE, or _FD) in its environment; see {@link readAgentConfig}.
 */
export { Agent } from './agent.js';
export { readAgentConfig, AgentConfigError } from './config.js';
export type { AgentConfig } from './config.js';
