#!/usr/bin/env node
// Part of `npm run build`: compiles the JSON Schemas in schemas/ into validation code
// once (ajv's standalone mode), so that `journey validate` does not compile them at
// every start (about 250 ms of its 400 ms budget). The file carries the schemas' hash;
// src/project/schema-validator.ts compiles at run time instead when the hash differs
// (schemas edited since the build) or the file is absent (tests run from src/).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv/dist/2020.js';
import standaloneModule from 'ajv/dist/standalone/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { SCHEMA_FILES, ROOT_SCHEMA, BASE_URI, AJV_OPTIONS, schemaHash } = await import(path.join(root, 'dist/project/schema-files.js'));

const Ajv2020 = AjvModule.default;
const standalone = standaloneModule.default;
const ajv = new Ajv2020({ ...AJV_OPTIONS, code: { source: true } });
const texts = SCHEMA_FILES.map((name) => readFileSync(path.join(root, 'schemas', `${name}.schema.json`), 'utf8'));
for (const text of texts) ajv.addSchema(JSON.parse(text));
const exports = Object.fromEntries(Object.entries(ROOT_SCHEMA).map(([kind, file]) => [kind, BASE_URI + file]));
const code = standalone(ajv, exports);
const out = path.join(root, 'dist/project/schema-validators.cjs');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${code}\nexports.schemaHash = ${JSON.stringify(schemaHash(texts))};\n`);
