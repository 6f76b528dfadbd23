/** Exit codes of the CLI, as documented in `--help` and the README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, liveInConfig: 4 } as const;
