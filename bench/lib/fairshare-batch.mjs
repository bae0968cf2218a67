// Row 11's batch client, a program of its own as in the issue (`clustrix up` and two programs):
// its own work (packing 100,000 submits, unpacking the results, building the result array, their
// GC) runs on its own event loop, not on the interactive client's. It reads one JSON line
// `{ address, credential, n }` on stdin (the credential stays out of argv), connects, prints
// `MAPPING` when its map starts, maps `x => x + 1` over n items, then prints the result line.
import { createInterface } from 'node:readline';
import { loadClustrix } from './clustrix.mjs';
import { emitJson } from './proc.mjs';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const first = await lines.next();
const { address, credential, n } = JSON.parse(first.value);
const { Cluster } = await loadClustrix();
const batch = await Cluster.connect({ address, credential });
const input = Array.from({ length: n }, (_, i) => i);
process.stdout.write('MAPPING\n');
const t = performance.now();
const out = await batch.map((x) => x + 1, input);
const ms = performance.now() - t;
if (out.length !== n || out[n - 1] !== n) throw new Error('wrong map result');
await batch.close();
emitJson({ n, ms });
process.exit(0);
