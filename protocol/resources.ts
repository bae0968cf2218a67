import { z } from 'zod';

/**
 * What a task or an actor asks of an agent, and (in phase with it) what an agent has: `cpus`
 * (worker slots), `gpus`, `memory` (bytes), and any custom name (`licenses`, `fpga`) → an amount.
 * An absent name asks for none.
 */
export const Resources = z.record(z.string().min(1).max(64), z.number().finite().nonnegative()).refine((r) => Object.keys(r).length <= 32, { error: 'at most 32 resource names' });
export type Resources = z.infer<typeof Resources>;
