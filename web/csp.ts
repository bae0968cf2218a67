// Imported first: the page's CSP forbids eval, so zod must neither compile its parsers with
// new Function nor probe whether it may (a caught probe is still reported as a violation).
import { z } from 'zod';

z.config({ jitless: true });
