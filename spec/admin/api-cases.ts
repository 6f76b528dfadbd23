// Every route, status code and validation rule of tokenAdminRouter, run once per Express major.
import { createCases } from './cases-create';
import { guardCases } from './cases-guard';
import { mutateCases } from './cases-mutate';
import { readCases } from './cases-read';
import { sessionCases } from './cases-sessions';

export function apiCases(label: string): void {
  describe(`tokenAdminRouter on ${label}`, () => {
    guardCases();
    createCases();
    readCases();
    mutateCases();
    sessionCases();
  });
}
