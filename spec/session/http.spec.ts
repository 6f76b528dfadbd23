// The HTTP suite (http.ts) on each store, express 4 and express 5.
import { describeWith } from '../support/components';
import { fileBackend, memoryBackend, openbaoBackend, redisBackend } from './backends';
import { httpSuite } from './http';

describeWith('redis', 'HTTP: connect-redis@9 on Redis (the reference)', () => httpSuite(redisBackend));
describeWith('openbao', 'HTTP: SecretsSessionStore on OpenBao KV v2', () => httpSuite(openbaoBackend));
describe('HTTP: SecretsSessionStore on the file provider', () => httpSuite(fileBackend));
describe('HTTP: SecretsSessionStore on the memory provider', () => httpSuite(memoryBackend));
