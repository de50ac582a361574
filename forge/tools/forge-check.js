#!/usr/bin/env node
// Atlassian's own checks of forge/manifest.yml, offline and without a login (run from forge/):
//  1. @forge/manifest's full validation (`validate()`: schema, modules, connect, permissions, remotes, ...),
//     the same processor `forge deploy` and `forge lint` run;
//  2. @forge/lint's client-side linters (`getClientSideLintersOnly`), the ones `forge lint` runs before
//     its server-side checks. `forge lint` itself refuses to start without `forge login`, so they are
//     called here directly. Their feature flags come from a reader that answers "unknown" for every
//     gate and config: the same defaults the CLI falls back to when it cannot reach Atlassian.
//     The permission linter's REST specs are read from files (its own USE_LOCAL_SWAGGER switch):
//     Jira platform and JSM from TIERWISE_PEERS_DIR/specs (default ../../shared/peers/specs), and an
//     empty spec for Jira Software, Confluence and Bitbucket, which this app never calls. The linter
//     checks API calls in Forge function source; this app has none (every module is a remote endpoint).
// Exit status 1 on any validation or lint error; warnings are printed and do not fail.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { validate } = require('@forge/manifest');
const { getClientSideLintersOnly, problemCount } = require('@forge/lint');
const { StatsigReader } = require('@forge/cli-shared');

class OfflineFlags extends StatsigReader {
  async checkGate() { return null; }
  async getDynamicConfig() { return null; }
}

const logger = {
  info: (m) => console.log(m), warn: (m) => console.warn(m), error: (m) => console.error(m),
  debug: () => {}, trace: () => {}, traceEnabled: false, debugEnabled: false,
};

function useLocalSpecs() {
  const peers = process.env.TIERWISE_PEERS_DIR || path.resolve(__dirname, '..', '..', '..', 'shared', 'peers');
  const specs = path.join(peers, 'specs');
  const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'forge-check-')), 'empty-spec.json');
  fs.writeFileSync(empty, JSON.stringify({ openapi: '3.0.1', paths: {} }));
  for (const file of ['jira-platform.v3.json', 'jsm.v3.json']) {
    if (!fs.existsSync(path.join(specs, file))) throw new Error(`missing ${path.join(specs, file)}`);
  }
  Object.assign(process.env, {
    USE_LOCAL_SWAGGER: 'true',
    LOCAL_JIRA_SWAGGER: path.join(specs, 'jira-platform.v3.json'),
    LOCAL_JSM_SWAGGER: path.join(specs, 'jsm.v3.json'),
    LOCAL_JSW_SWAGGER: empty, LOCAL_CONF_SWAGGER: empty, LOCAL_CONF_V2_SWAGGER: empty, LOCAL_BB_SWAGGER: empty,
  });
}

async function main() {
  process.chdir(path.resolve(__dirname, '..'));
  useLocalSpecs();
  const result = await validate(false, 'manifest.yml');
  const errors = result.errors || [];
  for (const e of errors) {
    const where = e.line !== undefined ? `manifest.yml:${e.line}:${e.column ?? 0}` : 'manifest.yml';
    console.error(`${where}: ${e.level || 'error'}: ${e.message}${e.reference ? ` (${e.reference})` : ''}`);
  }
  const validationErrors = errors.filter((e) => (e.level || 'error') === 'error').length;
  if (!result.success || !result.manifestObject) {
    console.error(`@forge/manifest: ${validationErrors || 1} error(s)`);
    process.exit(1);
  }
  console.log(`@forge/manifest: manifest.yml valid (${errors.length} message(s))`);

  const linters = await getClientSideLintersOnly(result.manifestObject.typedContent, 'development', logger,
                                                 new OfflineFlags());
  await Promise.all(linters.map((l) => l.bootstrap()));
  const results = (await Promise.all(linters.map((l) => l.batchExecute([])))).flat();
  for (const r of results) {
    for (const e of r.errors) console.error(`${r.file}:${e.line}:${e.column}: error: ${e.message}`);
    for (const w of r.warnings) console.warn(`${r.file}:${w.line}:${w.column}: warning: ${w.message}`);
  }
  const count = problemCount(results);
  console.log(`@forge/lint (${linters.length} client-side linters): ${count.errors} error(s), ` +
              `${count.warnings} warning(s)`);
  process.exit(count.errors ? 1 : 0);
}

main().catch((err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); });
