/** A problem in the agent's environment: printed, then the agent exits with code 2. */
export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}
