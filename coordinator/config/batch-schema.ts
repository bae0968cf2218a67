/**
 * What batch jobs ask for: `resources` and the `slurm`, `pbs`, `sge` specifics. The launchers check
 * these again when constructed directly; through Cluster.start() these schemas decide first, so
 * their rules include the launchers' and call the launchers' own parsers rather than copy them.
 */
import { z } from 'zod';
import { parseMemoryMb, parseWalltimeSeconds, type ResourceOptions } from '../backends/launchers/batch/resources.js';
import { isSgeWord } from '../backends/launchers/batch/job-script.js';
import { as, flag, line, mapping, positiveInt, strings, type Differences, type None } from './schema-kit.js';

/** Accepts exactly what the batch launchers' own parser accepts, by calling it. */
function parses(parse: (value: unknown, path: string) => number): (value: number | string) => boolean {
  return (value) => {
    try {
      parse(value, '');
      return true;
    } catch {
      return false;
    }
  };
}
const MEMORY = "a positive number of MB or a size such as '4G' or '512M'";
const WALLTIME = "a positive number of minutes, 'HH:MM:SS' or 'D-HH:MM:SS'";
const DIRECTIVE = 'a list of directive lines (one line each)';

const resourcesObject = z
  .strictObject(
    {
      nodes: positiveInt().optional(),
      cpusPerTask: positiveInt().optional(),
      memory: z.union([z.number(), z.string()], { error: MEMORY }).refine(parses(parseMemoryMb), { error: MEMORY }).optional(),
      time: z.union([z.number(), z.string()], { error: WALLTIME }).refine(parses(parseWalltimeSeconds), { error: WALLTIME }).optional(),
      partition: line().optional(),
      queue: line().optional(),
      account: line().optional(),
      qos: line().optional(),
      gpus: positiveInt().optional(),
      extraDirectives: z.array(line('a directive line'), { error: DIRECTIVE }).readonly().optional(),
    },
    mapping('job resources (nodes, cpusPerTask, memory, time, ...)'),
  )
  .superRefine((r, ctx) => {
    if (r.partition !== undefined && r.queue !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['queue'], input: r.queue, params: { sentence: true }, message: 'the same setting as partition (its PBS and SGE name): give one of the two' });
    }
  });
type _ResourcesMirrored = None<Differences<ResourceOptions, z.input<typeof resourcesObject>>>;

/** `resources`: what each batch job asks the scheduler for. */
export const resourcesSchema = as<ResourceOptions>(resourcesObject);

/** SGE's #$ parser strips quotes and splits at blanks: values there are plain words. */
export const SGE_WORD = 'a plain word (no blanks, quotes, backslashes, backquotes or $: SGE #$ directives cannot quote)';
const sgeWord = () => line(SGE_WORD).refine(isSgeWord, { error: SGE_WORD });
export { isSgeWord };

export const slurmSchema = z.strictObject({ accounting: z.enum(['auto', 'slurmdbd', 'jobcomp', 'none']).optional() }, mapping('slurm options (accounting)'));
export const pbsSchema = z.strictObject({ resourceStyle: z.enum(['torque', 'pbspro']).optional() }, mapping('pbs options (resourceStyle)'));
export const sgeSchema = z.strictObject(
  {
    parallelEnvironment: sgeWord().optional(),
    memoryResource: sgeWord().optional(),
    gpuResource: sgeWord().optional(),
    rejectImpossible: flag().optional(),
  },
  mapping('sge options (parallelEnvironment, memoryResource, gpuResource, rejectImpossible)'),
);

/** Setup lines: any text but NUL (bash reads them verbatim; NUL would cut the line short). */
export const setupSchema = strings('a list of shell lines').refine((lines) => lines.every((l) => !l.includes('\0')), { error: 'a list of shell lines without NUL characters' });
