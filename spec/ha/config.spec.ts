// The YAML side of the HA options: `addresses`, `consistency` and `failover_budget` under
// secrets.providers.vault, mapped to createVaultProvider's options.
import { parseConfigText } from '../../lib/config/load';
import { vaultOptionsFromConfig } from '../../lib/config/providers';
import { ConfigError } from '../../lib';

const yaml = (vault: string) => `secrets:\n  providers:\n    vault:\n${vault.replace(/^/gm, '      ')}\n`;

const vaultOf = (vault: string) => {
  const config = parseConfigText(yaml(vault)).secrets.providers.vault;
  if (!config?.enabled) throw new Error('vault should be enabled');
  return config;
};

describe('secrets.providers.vault HA options', () => {
  test('addresses, consistency and failover_budget map to addresses, consistency and failoverBudgetMs', async () => {
    const config = vaultOf(
      [
        'addresses:',
        '  - http://10.0.0.1:8200',
        '  - http://10.0.0.2:8200',
        '  - http://10.0.0.3:8200',
        'consistency: eventual',
        'failover_budget: 15s',
        'token: t',
      ].join('\n'),
    );
    const options = await vaultOptionsFromConfig(config, { env: {} });
    expect(options).toMatchObject({
      address: undefined,
      addresses: ['http://10.0.0.1:8200', 'http://10.0.0.2:8200', 'http://10.0.0.3:8200'],
      consistency: 'eventual',
      failoverBudgetMs: 15_000,
    });
  });

  test('defaults: consistency and the budget are left to the provider (strong; 20 s with several addresses)', async () => {
    const options = await vaultOptionsFromConfig(vaultOf('address: http://127.0.0.1:8200\ntoken: t'), { env: {} });
    expect(options.consistency).toBeUndefined();
    expect(options.failoverBudgetMs).toBeUndefined();
  });

  test('address and addresses together, none of them, a bad URL or a bad consistency are refused with the config path', () => {
    const problems = (text: string) => {
      try {
        parseConfigText(yaml(text));
      } catch (err) {
        return (err as ConfigError).problems;
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems('address: http://a:8200\naddresses: [http://b:8200]')).toContainEqual(
      expect.stringMatching(/^secrets\.providers\.vault\.addresses: set either address .* not both/),
    );
    expect(problems('token: t')).toContainEqual('secrets.providers.vault.address: required');
    expect(problems('addresses: [http://a:8200, "not a url"]')).toContainEqual(
      expect.stringMatching(/^secrets\.providers\.vault\.addresses\[1\]: must be an http/),
    );
    expect(problems('addresses: []')).toContainEqual(expect.stringMatching(/^secrets\.providers\.vault\.addresses/));
    expect(problems('address: http://a:8200\nconsistency: weak')).toContainEqual(expect.stringMatching(/^secrets\.providers\.vault\.consistency/));
    expect(problems('address: http://a:8200\nfailover_budget: soon')).toContainEqual(
      expect.stringMatching(/^secrets\.providers\.vault\.failover_budget: expected a duration/),
    );
    expect(() => parseConfigText(yaml('token: t'))).toThrow(ConfigError);
  });
});
