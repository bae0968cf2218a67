// A map's gathered `submits` message (thousands of tasks) is taken in by the service a slice per
// loop turn (coordinator/service/inbox.ts): another client's run sent meanwhile gets in between
// the slices, not behind the whole message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';

const TASKS = 4096;

describe('a huge submits message beside another client', () => {
  let service: ClusterService;
  let batch: Cluster;
  let interactive: Cluster;
  /** Which client each task the service took in came from, in the order it took them in. */
  const intake: string[] = [];
  /** Called as the service takes each task in (after it is noted). */
  let onIntake: (client: string) => void = () => undefined;

  beforeAll(async () => {
    service = await ClusterService.start({ profile: `slices-${process.pid}`, cluster: { agents: 1, slots: 1 }, writeStateFile: false, dashboard: false });
    // Each scope the service opens (one per client, in connection order) notes its submits.
    const clients = ['batch', 'interactive'];
    const engine = service.engine;
    const openScope = engine.openScope.bind(engine);
    engine.openScope = (...args) => {
      const scope = openScope(...args);
      const client = clients.shift() ?? 'other';
      // Gathered submits reach the scope through submitTask, single requests through submit.
      const submit = scope.submit.bind(scope);
      const submitTask = scope.submitTask.bind(scope);
      const noted = (): void => {
        intake.push(client);
        onIntake(client);
      };
      scope.submit = (spec) => {
        noted();
        return submit(spec);
      };
      scope.submitTask = (spec, sink) => {
        noted();
        submitTask(spec, sink);
      };
      return scope;
    };
    const opts = { address: service.address, credential: service.credential };
    batch = await Cluster.connect(opts);
    interactive = await Cluster.connect(opts);
  });

  afterAll(async () => {
    await batch?.close();
    await interactive?.close();
    await service?.stop('test done');
  });

  it("takes another client's run in before the last task of a 4,096-task message", async () => {
    // The interactive client sends its run the moment the service starts on the batch's message.
    const run = new Promise<number>((resolve, reject) => {
      onIntake = (client) => {
        if (client !== 'batch') return;
        onIntake = () => undefined;
        interactive.run((x: number) => x * 2, 21).then(resolve, reject);
      };
    });
    // concurrency: all 4,096 in flight at once, so they leave the client as one message.
    const out = await batch.map((x: number) => x + 1, Array.from({ length: TASKS }, (_, i) => i), { concurrency: TASKS });
    expect(await run).toBe(42);
    expect(out).toHaveLength(TASKS);
    expect(out[TASKS - 1]).toBe(TASKS);
    expect(intake.filter((c) => c === 'batch')).toHaveLength(TASKS);
    // Taken in as one synchronous loop, the message let the run in only after all 4,096.
    const taken = intake.indexOf('interactive');
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(TASKS);
  });
});
