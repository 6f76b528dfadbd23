/** Resolves after `ms` milliseconds (a pause in a spec; never a timing assertion). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
