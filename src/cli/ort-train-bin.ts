#!/usr/bin/env node
// `ort-train ...` is `unilvseg ort-train ...`.
import { main } from './main.js';

main([process.argv[0], process.argv[1], 'ort-train', ...process.argv.slice(2)]).catch((e: unknown) => {
  console.error(`ort-train: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
