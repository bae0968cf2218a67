import { runWorkerThread } from './worker-thread.js';

// Entry of the agent's worker threads when run from dist/ (the bundle embeds its own copy).
runWorkerThread();
