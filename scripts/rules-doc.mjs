// Writes docs/rules.md, the rule catalogue, from the built rule metadata. Run through `npm run rules-doc`
// (which builds first); test/rules-doc.test.ts fails when the committed catalogue is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rulesCatalog } from '../dist/report/rules-catalog.js';

const out = fileURLToPath(new URL('../docs/rules.md', import.meta.url));
writeFileSync(out, rulesCatalog());
console.log(`wrote ${out}`);
