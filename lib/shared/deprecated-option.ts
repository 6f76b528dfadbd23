import { ConfigError } from '../errors';

/** One renamed option: where it lives, its old and new names, and how an old value becomes a new one. */
export interface RenamedOption {
  /** Who reads the option, for messages, e.g. "session store". */
  owner: string;
  oldName: string;
  newName: string;
  /** How the old value's unit maps to the new one, for the warning, e.g. "seconds × 1000". */
  conversion: string;
  /** Turns an old value into a new one. Default: the value as is. */
  convert?: (old: number) => number;
}

/** Warnings already given in this process, one per `owner.oldName`. */
const warned = new Set<string>();

/**
 * The value of a renamed option: the new name's value, else the old name's (converted), else
 * undefined. The old name emits a `DeprecationWarning` (code `ESA_DEPRECATED_OPTION`) once per
 * process per option; giving both names is a ConfigError. Old names are kept for one minor version.
 */
export function renamedOption<T>(options: object, rename: RenamedOption): T | undefined {
  const given = options as Record<string, unknown>;
  const hasNew = given[rename.newName] !== undefined;
  const hasOld = given[rename.oldName] !== undefined;
  if (hasNew && hasOld) {
    throw new ConfigError(`${rename.owner}: give ${rename.newName} or its old name ${rename.oldName}, not both`);
  }
  if (!hasOld) return given[rename.newName] as T | undefined;
  const key = `${rename.owner}.${rename.oldName}`;
  if (!warned.has(key)) {
    warned.add(key);
    process.emitWarning(
      `${rename.owner}: the option ${rename.oldName} is deprecated and will be removed in the next minor version; use ${rename.newName} (${rename.conversion}).`,
      { type: 'DeprecationWarning', code: 'ESA_DEPRECATED_OPTION' },
    );
  }
  const old = given[rename.oldName];
  return (rename.convert && typeof old === 'number' ? rename.convert(old) : old) as T;
}
