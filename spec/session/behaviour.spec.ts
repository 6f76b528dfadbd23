// The shared behaviour suite (behaviour.ts), identical assertions on every store.
import { behaviourSuite } from './behaviour';
import { describeWith } from '../support/components';
import { fileBackend, memoryBackend, openbaoBackend, redisBackend } from './backends';

describeWith('redis', 'connect-redis@9 on Redis (the reference)', () => behaviourSuite(redisBackend));
describeWith('openbao', 'SecretsSessionStore on OpenBao KV v2', () => behaviourSuite(openbaoBackend));
describe('SecretsSessionStore on the file provider', () => behaviourSuite(fileBackend));
describe('SecretsSessionStore on the memory provider', () => behaviourSuite(memoryBackend));
