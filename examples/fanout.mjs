// Fans a CPU-heavy function out over every core of this machine with the embedded local cluster,
// checks the results against a serial run, and prints the speed-up.
import os from 'node:os';
import { Cluster } from 'clustrix';

/** Counts the primes below n by trial division: pure CPU, no shared state. */
const countPrimes = (n) => {
  let count = 0;
  for (let i = 2; i < n; i++) {
    let prime = true;
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
};

const inputs = Array.from({ length: 24 }, (_, i) => 300_000 + i * 10_000);

let t = performance.now();
const serial = inputs.map(countPrimes);
const serialMs = performance.now() - t;

t = performance.now();
const cluster = await Cluster.start();
const startMs = performance.now() - t;
try {
  const agents = (await cluster.agents());
  const slots = agents.reduce((n, a) => n + a.slots, 0);
  console.log(`cluster up in ${startMs.toFixed(0)} ms: ${agents.length} agent(s), ${slots} slot(s) on ${os.availableParallelism()} core(s)`);

  await cluster.map(countPrimes, inputs.slice(0, slots)); // warm the agents' threads
  t = performance.now();
  const parallel = await cluster.map(countPrimes, inputs);
  const parallelMs = performance.now() - t;

  for (let i = 0; i < inputs.length; i += 6) console.log(`  primes below ${inputs[i]}: ${parallel[i]}`);
  if (parallel.some((v, i) => v !== serial[i])) throw new Error('parallel results differ from the serial run');
  console.log(`serial ${serialMs.toFixed(0)} ms, on the cluster ${parallelMs.toFixed(0)} ms: speed-up ${(serialMs / parallelMs).toFixed(2)}x`);
} finally {
  await cluster.close();
}
