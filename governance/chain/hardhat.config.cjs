/* eslint-disable @typescript-eslint/no-require-imports */
/* global require, module */
// Configuration of the local development chain (`hardhat node`), chain id 31337. Contracts are
// compiled by governance/contracts/compile.ts with solc-js, never by Hardhat (its compile task
// downloads a compiler). Hardhat's cache goes to the temporary directory, not into the repo.
const { join } = require('node:path');
const { tmpdir } = require('node:os');

const cache = join(tmpdir(), 'meshos-hardhat-cache');
module.exports = {
  networks: { hardhat: { chainId: 31337, mining: { auto: true } } },
  paths: { sources: join(cache, 'sources'), cache, artifacts: join(cache, 'artifacts') },
};
