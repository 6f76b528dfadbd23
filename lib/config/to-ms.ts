/**
 * The one place where a YAML duration (parsed by the schema to seconds) becomes the milliseconds
 * the JS API takes (`...Ms` options). Rounded to a whole number; undefined stays undefined.
 */
export function toMs(seconds: number): number;
export function toMs(seconds: number | undefined): number | undefined;
export function toMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}
