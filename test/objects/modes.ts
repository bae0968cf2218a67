// The objects tests name their mode as a string; the modes themselves are the API matrix's
// (test/helpers/modes.ts), so both tiers start embedded and connected clusters the same way.
import type { ClusterOptions } from 'clustrix';
import { MODES as MATRIX, type ClusterHandle, type ModeName } from '../helpers/modes.js';

export type Mode = ModeName;
export const MODES: Mode[] = MATRIX.map((m) => m.name);
export type Opened = ClusterHandle;

export function openCluster(mode: Mode, options: ClusterOptions): Promise<Opened> {
  return MATRIX.find((m) => m.name === mode)!.start(options);
}
