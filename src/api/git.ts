/** Which commit an audit's inputs come from: the manifest's `git_commit` and `git_dirty`. */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';

/** The commit of the repository that holds the audited files, and whether its tree differs from it. */
export interface GitProvenance {
  /** `GIT_COMMIT` when set, else the HEAD of the repository holding the config (or the model, or the data); null outside any repository. */
  commit: string | null;
  /**
   * True when that repository has uncommitted changes to tracked files, or an audited file
   * inside it that the commit does not hold (untracked or ignored): the commit alone does not
   * reproduce the audit. Absent when the commit came from `GIT_COMMIT` or there is none.
   */
  dirty?: boolean;
}

/**
 * Git's own variables that point it at another repository or index (set inside a git hook):
 * dropped, so git looks at the repository holding the file and nothing else.
 */
const REDIRECTS = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_CEILING_DIRECTORIES'];

/**
 * The provenance of an audit whose config (or, without one, model or data) is `anchor`:
 * `GIT_COMMIT` wins when set (a CI system that checked the commit out says which); else the
 * repository holding `anchor` is asked, not the one the command runs in. `inputs` are every
 * file the audit read: one inside that repository that the commit does not hold makes it
 * dirty. Any failure of git (not installed, not a repository, an unsafe owner) gives null.
 */
export function gitProvenance(anchor: string, inputs: string[], env: NodeJS.ProcessEnv = process.env): GitProvenance {
  if (env.GIT_COMMIT) return { commit: env.GIT_COMMIT };
  const gitEnv = { ...env };
  for (const name of REDIRECTS) delete gitEnv[name];
  const git = (cwd: string, args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: gitEnv, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  try {
    const folder = dirname(realpathSync(resolve(anchor)));
    const top = git(folder, ['rev-parse', '--show-toplevel']).trim();
    const commit = git(top, ['rev-parse', '--verify', '-q', 'HEAD']).trim();
    if (!commit) return { commit: null };
    const changed = git(top, ['status', '--porcelain', '--untracked-files=no']).trim() !== '';
    const inside = inputs
      .map((path) => relative(top, realpathSync(resolve(path))))
      .filter((path) => path !== '' && !path.startsWith('..') && !isAbsolute(path));
    // An audited file the commit does not hold: untracked, or ignored (listed by --others without --exclude-standard).
    const uncommitted = inside.length > 0 && git(top, ['ls-files', '--others', '--', ...inside]).trim() !== '';
    return { commit, dirty: changed || uncommitted };
  } catch {
    return { commit: null };
  }
}
