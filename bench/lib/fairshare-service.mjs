// Row 11's service, a process of its own as `clustrix up` is: the engine, its 2 × 1-slot local
// pool and the client endpoint. Prints one line `SERVICE {"address","credential"}` once up, and
// stops when its stdin ends (the row is done, or gone).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.BENCH_DIST;
const { ClusterService } = await import(dist ? pathToFileURL(join(dist, 'coordinator', 'service', 'index.js')).href : new URL('../../dist/coordinator/service/index.js', import.meta.url).href);
const service = await ClusterService.start({ profile: 'bench-fair', cluster: { agents: 2, slots: 1 }, writeStateFile: false });
process.stdout.write(`SERVICE ${JSON.stringify({ address: service.address, credential: service.credential })}\n`);
process.stdin.resume();
process.stdin.once('end', async () => {
  await service.stop('bench done');
  process.exit(0);
});
