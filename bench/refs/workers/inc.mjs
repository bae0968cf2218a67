// piscina/tinypool worker for row 2: the trivial task.
export default (x) => x + 1;
