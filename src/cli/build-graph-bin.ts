#!/usr/bin/env node
// `build-graph ...` is `unilvseg build-graph ...`.
import { main } from './main.js';

main([process.argv[0], process.argv[1], 'build-graph', ...process.argv.slice(2)]).catch((e: unknown) => {
  console.error(`build-graph: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
