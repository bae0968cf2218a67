// piscina/tinypool worker for row 3: the same ~10 ms CPU function the clustrix agents run.
export { burn as default } from '../../lib/burn.mjs';
