/**
 * The `plumbline` command as a process of its own, for the few tests that need one (the
 * others run it in-process: tests/cli-in-process.ts). The bundle is made once per run by
 * tests/support/global-setup.ts from the sources.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the bundled command lives (inside node_modules, so its npm imports resolve from the project). */
export const BUNDLED_CLI_DIR = fileURLToPath(new URL('../../node_modules/.cache/plumbline-tests', import.meta.url));

/** The bundled command: start it as `node BUNDLED_CLI …args`. */
export const BUNDLED_CLI = join(BUNDLED_CLI_DIR, 'plumbline.mjs');

/** The bundled command's main(argv, io), for a driver that runs it many times in one process. */
export const BUNDLED_MAIN = join(BUNDLED_CLI_DIR, 'main.mjs');
