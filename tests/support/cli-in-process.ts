/**
 * Runs the `plumbline` command in this process (its `main(argv, io)` with captured
 * streams), in a working directory and with environment variables, as a test would start it
 * as a process — without the start-up and TypeScript compilation of a new Node process for
 * every command. Tests that need a real process (exit on a signal, memory limits, the
 * installed package, concurrent appends) still start one.
 */
import { main } from '../../src/cli/main';

/** What a command printed and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `plumbline ARGS` in `cwd` with `env` added to the environment. One at a time. */
export async function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const decoder = new TextDecoder();
  const sink = (parts: string[]) => ({ write: (chunk: string | Uint8Array) => parts.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk)), isTTY: false });
  const cwd = process.cwd();
  const env = { ...process.env };
  if (options.cwd) process.chdir(options.cwd);
  Object.assign(process.env, options.env ?? {});
  try {
    const code = await main(args, { stdout: sink(out), stderr: sink(err) });
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.chdir(cwd);
    for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
    Object.assign(process.env, env);
  }
}
