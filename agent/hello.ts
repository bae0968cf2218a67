import os from 'node:os';
import type { Hello } from '../protocol/agent-messages.js';
import type { RemoteErrorInfo } from '../protocol/common.js';
import { AgentFeature, PROTOCOL_VERSION } from '../protocol/version.js';
import type { AgentConfig } from './config.js';

/** The first message on each connection: the credential, what this agent offers and what it can do. */
export function helloOf(config: AgentConfig, agentId: string | null): Hello {
  return {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    token: config.token,
    agentId,
    jobId: config.jobId,
    host: os.hostname(),
    pid: process.pid,
    cpus: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    node: process.version,
    slots: config.slots,
    inlineConcurrency: config.inlineConcurrency,
    walltimeLeftMs: config.walltimeEnd === null ? null : config.walltimeEnd - Date.now(),
    resources: config.resources,
    features: [AgentFeature.park],
  };
}

/** The wire form of a value too large to travel: the size, the limit, and what to do. */
export function tooLarge(what: string, limit: number): RemoteErrorInfo {
  return {
    name: 'ValueTooLargeError',
    code: 'VALUE_TOO_LARGE',
    message: `${what}, more than the ${limit} bytes one message may carry (maxFrameBytes less room for the envelope); return less (write large data to shared storage and return its path), or raise maxFrameBytes`,
  };
}
