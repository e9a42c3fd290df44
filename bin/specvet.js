#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is bundled into dist/cli.js by scripts/build.mjs (run by `npm ci` via `prepare`).
require('../dist/cli.js').runAsProcess();
