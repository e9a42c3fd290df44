// The agent's settings: odd values fall back to defaults with a warning, untrusted workspaces cannot
// redirect the endpoint, package.json declares exactly these settings; typed ranges and secret keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configurationProperties, defaultAgentSettings, effectiveValue, readRawSettings, RESTRICTED_SETTING_KEYS, validateAgentSettings } from '../../src/extension/agent/settings';
import { parseRange, secretKeyFor } from '../../src/extension/agent/input';
import { repoRoot } from '../support/paths';

test('defaults: maxTurns 8 as in training, hermes protocol, loopback vLLM URL', () => {
  const { settings, warnings } = validateAgentSettings({});
  assert.deepEqual(warnings, []);
  assert.equal(settings.maxTurns, 8);
  assert.equal(settings.protocol, 'hermes');
  assert.equal(settings.endpointUrl, 'http://127.0.0.1:8000/v1');
  assert.deepEqual(settings, defaultAgentSettings());
});

test('odd values (negative, NaN, wrong types, out of bounds, bad enum, bad URL) → the default and a warning each', () => {
  const { settings, warnings } = validateAgentSettings({
    'agent.maxTurns': -3,
    'sampling.temperature': Number.NaN,
    'sampling.topP': 0,
    'sampling.maxTokens': 12.5,
    'agent.concurrency': '4',
    'endpoint.protocol': 'grpc',
    'endpoint.url': 'ftp://example.org',
    'endpoint.timeoutSeconds': 1e9,
    'traces.folder': '   ',
  });
  const d = defaultAgentSettings();
  assert.equal(settings.maxTurns, d.maxTurns);
  assert.equal(settings.temperature, d.temperature);
  assert.equal(settings.topP, d.topP);
  assert.equal(settings.maxTokens, d.maxTokens);
  assert.equal(settings.concurrency, d.concurrency);
  assert.equal(settings.protocol, d.protocol);
  assert.equal(settings.endpointUrl, d.endpointUrl);
  assert.equal(settings.timeoutSeconds, d.timeoutSeconds);
  assert.equal(settings.tracesFolder, d.tracesFolder);
  assert.equal(warnings.length, 9);
  assert.ok(warnings.some((w) => /specvet\.agent\.maxTurns: -3 is outside \[1, 32\]; using the default 8/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /specvet\.sampling\.topP: 0 is outside \(0, 1\]/.test(w)));
  assert.ok(warnings.some((w) => /specvet\.agent\.concurrency: "4" is not a number/.test(w)));
  assert.ok(warnings.some((w) => /specvet\.endpoint\.protocol: "grpc" is not one of hermes, native/.test(w)));
});

test('good values are taken as given', () => {
  const { settings, warnings } = validateAgentSettings({ 'agent.maxTurns': 5, 'sampling.temperature': 0.7, 'endpoint.protocol': 'native', 'endpoint.url': ' https://gpu.example.org/v1 ', 'endpoint.model': 'spec-o3-3b' });
  assert.deepEqual(warnings, []);
  assert.equal(settings.maxTurns, 5);
  assert.equal(settings.temperature, 0.7);
  assert.equal(settings.protocol, 'native');
  assert.equal(settings.endpointUrl, 'https://gpu.example.org/v1');
  assert.equal(settings.model, 'spec-o3-3b');
});

test('untrusted workspace: workspace values of endpoint settings are ignored; user values and other settings still apply', () => {
  const inspected: Record<string, { defaultValue?: unknown; globalValue?: unknown; workspaceValue?: unknown }> = {
    'endpoint.url': { defaultValue: 'http://127.0.0.1:8000/v1', globalValue: 'http://10.0.0.5:8000/v1', workspaceValue: 'https://attacker.example/v1' },
    'endpoint.model': { defaultValue: 'spec-o3-7b', workspaceValue: 'evil' },
    'agent.maxTurns': { defaultValue: 8, workspaceValue: 4 },
  };
  const untrusted = validateAgentSettings(readRawSettings((k) => inspected[k], false)).settings;
  assert.equal(untrusted.endpointUrl, 'http://10.0.0.5:8000/v1');
  assert.equal(untrusted.model, 'spec-o3-7b');
  assert.equal(untrusted.maxTurns, 4, 'not an endpoint setting: the workspace may set it');
  const trusted = validateAgentSettings(readRawSettings((k) => inspected[k], true)).settings;
  assert.equal(trusted.endpointUrl, 'https://attacker.example/v1');
  assert.equal(trusted.model, 'evil');
  assert.equal(effectiveValue({ defaultValue: 1, workspaceFolderValue: 3, workspaceValue: 2 }, true, true), 3);
});

test('package.json declares exactly these settings with bounds, and restricts the endpoint ones in untrusted workspaces', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const sections = Array.isArray(pkg.contributes.configuration) ? pkg.contributes.configuration : [pkg.contributes.configuration];
  const declared = Object.assign({}, ...sections.map((s: { properties?: object }) => s.properties ?? {}));
  for (const [key, spec] of Object.entries(configurationProperties())) assert.deepEqual(declared[key], spec, key);
  assert.equal(declared['specvet.agent.maxTurns'].minimum, 1);
  assert.equal(declared['specvet.agent.maxTurns'].default, 8);
  assert.deepEqual(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.deepEqual([...pkg.capabilities.untrustedWorkspaces.restrictedConfigurations].sort(), [...RESTRICTED_SETTING_KEYS].sort());
  assert.ok(RESTRICTED_SETTING_KEYS.includes('specvet.endpoint.url') && RESTRICTED_SETTING_KEYS.includes('specvet.endpoint.model'));
  const commands = pkg.contributes.commands.map((c: { command: string }) => c.command);
  for (const c of ['run', 'rerun', 'stop', 'forceZoom', 'saveTrace', 'openTrace', 'selectEndpoint', 'setApiKey']) assert.ok(commands.includes(`specvet.agent.${c}`), c);
  assert.ok(pkg.contributes.menus['editor/title'].some((m: { command: string; when: string }) => m.command === 'specvet.agent.run' && m.when.includes('activeCustomEditorId == specvet.fitsViewer')));
});

test('typed ranges: 6500-6600, 6500 6600, [6500, 6600], 6500–6600 Å; reversed or junk → null', () => {
  for (const t of ['6500-6600', '6500 6600', '[6500, 6600]', '6500–6600 Å', ' 6500.5 : 6600 ']) assert.ok(parseRange(t), t);
  assert.deepEqual(parseRange('6500-6600'), [6500, 6600]);
  assert.deepEqual(parseRange(' 6500.5 : 6600 '), [6500.5, 6600]);
  for (const t of ['6600-6500', 'abc', '6500', '6500-6600-6700', '']) assert.equal(parseRange(t), null, t);
});

test('API keys are stored per endpoint origin', () => {
  assert.equal(secretKeyFor('http://127.0.0.1:8000/v1'), secretKeyFor('http://127.0.0.1:8000/other'));
  assert.notEqual(secretKeyFor('http://127.0.0.1:8000/v1'), secretKeyFor('http://127.0.0.1:8001/v1'));
});
