/**
 * Where the command writes: the process's stdout and stderr, or the streams a caller hands
 * {@link main} (the tests run the CLI in-process and read what it printed).
 */

/** A stream the CLI writes text or bytes to. */
export interface CliStream {
  write(chunk: string | Uint8Array): unknown;
  /** Whether it is a terminal (progress is redrawn in place only there). */
  isTTY?: boolean;
}

/** The command's output streams. */
export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
}

let current: CliIo | null = null;

/** The streams of the command running now (the process's own outside {@link withIo}). */
function io(): CliIo {
  return current ?? { stdout: process.stdout, stderr: process.stderr };
}

/** Standard output of the running command. */
export const stdout: CliStream = {
  write: (chunk) => io().stdout.write(chunk),
  get isTTY() {
    return io().stdout.isTTY;
  },
};

/** Standard error of the running command. */
export const stderr: CliStream = {
  write: (chunk) => io().stderr.write(chunk),
  get isTTY() {
    return io().stderr.isTTY;
  },
};

/** Runs `body` with the command's output going to `streams` (one command at a time). */
export async function withIo<T>(streams: CliIo | undefined, body: () => Promise<T>): Promise<T> {
  if (!streams) return body();
  const previous = current;
  current = streams;
  try {
    return await body();
  } finally {
    current = previous;
  }
}
