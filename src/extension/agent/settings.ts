// The agent's settings: one table of keys with defaults and bounds (package.json declares the same),
// a pure validator (odd values → a warning and the default), and the vscode accessor that honours
// workspace trust: in an untrusted workspace the endpoint settings of the workspace are ignored,
// because they could send the user's data (and key) to a server the workspace's author chose.
import type { EndpointSettings } from '../../core/agent/endpoint';
import type { WireProtocol } from '../../core/trace/schema';

export interface AgentSettings {
  endpointUrl: string;
  model: string;
  protocol: WireProtocol;
  timeoutSeconds: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  maxTurns: number;
  concurrency: number;
  /** Relative to the first workspace folder unless absolute. */
  tracesFolder: string;
}

type NumberSpec = { kind: 'number'; field: keyof AgentSettings; default: number; min: number; max: number; integer?: boolean; exclusiveMin?: boolean };
type StringSpec = { kind: 'string'; field: keyof AgentSettings; default: string; pattern?: RegExp; what?: string };
type EnumSpec = { kind: 'enum'; field: keyof AgentSettings; default: string; values: string[] };
export type SettingSpec = (NumberSpec | StringSpec | EnumSpec) & { key: string; description: string; restricted: boolean };

/** Every agent setting: key (under `specvet.`), default, bounds, and whether untrusted workspaces may set it. */
export const AGENT_SETTINGS: SettingSpec[] = [
  { key: 'endpoint.url', field: 'endpointUrl', kind: 'string', default: 'http://127.0.0.1:8000/v1', pattern: /^https?:\/\/[^\s]+$/i, what: 'an http(s) URL', restricted: true,
    description: 'OpenAI-compatible base URL of the model server, e.g. a vLLM server running a Spec-o3 checkpoint (http://host:8000/v1). Ignored from workspace settings in an untrusted workspace.' },
  { key: 'endpoint.model', field: 'model', kind: 'string', default: 'spec-o3-7b', pattern: /^\S.*$/, what: 'a model name', restricted: true,
    description: 'Served model name (vLLM --served-model-name). "Select Endpoint and Model" lists what the server offers.' },
  { key: 'endpoint.protocol', field: 'protocol', kind: 'enum', default: 'hermes', values: ['hermes', 'native'], restricted: true,
    description: 'hermes: tool calls as <tool_call> text and results as <tool_response> user turns, exactly as Spec-o3 was trained (works with any vLLM server). native: OpenAI tools/tool_calls (needs --enable-auto-tool-choice --tool-call-parser hermes).' },
  { key: 'endpoint.timeoutSeconds', field: 'timeoutSeconds', kind: 'number', default: 180, min: 1, max: 3600, restricted: true,
    description: 'Limit for one model request, first byte to last, in seconds.' },
  { key: 'sampling.temperature', field: 'temperature', kind: 'number', default: 0, min: 0, max: 2, restricted: false,
    description: 'Sampling temperature (0 = greedy, reproducible verdicts).' },
  { key: 'sampling.topP', field: 'topP', kind: 'number', default: 1, min: 0, max: 1, exclusiveMin: true, restricted: false,
    description: 'Nucleus sampling: keep the most likely tokens up to this probability mass (0 < topP ≤ 1).' },
  { key: 'sampling.maxTokens', field: 'maxTokens', kind: 'number', default: 2048, min: 16, max: 32768, integer: true, restricted: false,
    description: 'Most tokens the model may write in one turn.' },
  { key: 'agent.maxTurns', field: 'maxTurns', kind: 'number', default: 8, min: 1, max: 32, integer: true, restricted: false,
    description: 'Most assistant turns per trajectory (Spec-o3 was trained with at most 8).' },
  { key: 'agent.concurrency', field: 'concurrency', kind: 'number', default: 2, min: 1, max: 16, integer: true, restricted: false,
    description: 'Trajectories allowed to run at the same time; more wait in a queue.' },
  { key: 'traces.folder', field: 'tracesFolder', kind: 'string', default: '.specvet/traces', pattern: /\S/, what: 'a folder path', restricted: true,
    description: 'Where "Save Trace" appends trajectories (traces.jsonl), relative to the first workspace folder unless absolute.' },
];

export const RESTRICTED_SETTING_KEYS = AGENT_SETTINGS.filter((s) => s.restricted).map((s) => `specvet.${s.key}`);

export function defaultAgentSettings(): AgentSettings {
  return Object.fromEntries(AGENT_SETTINGS.map((s) => [s.field, s.default])) as unknown as AgentSettings;
}

/**
 * Settings from raw values (key without `specvet.` → value; undefined = unset). Every value that is
 * the wrong type or out of bounds is replaced by its default, with a warning that says so.
 */
export function validateAgentSettings(raw: Record<string, unknown>): { settings: AgentSettings; warnings: string[] } {
  const settings = defaultAgentSettings() as unknown as Record<string, unknown>;
  const warnings: string[] = [];
  for (const spec of AGENT_SETTINGS) {
    const v = raw[spec.key];
    if (v === undefined || v === null) continue;
    const bad = (why: string) => warnings.push(`specvet.${spec.key}: ${why}; using the default ${JSON.stringify(spec.default)}`);
    if (spec.kind === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) { bad(`${JSON.stringify(v)} is not a number`); continue; }
      if (spec.integer && !Number.isInteger(v)) { bad(`${v} is not a whole number`); continue; }
      if (v < spec.min || v > spec.max || (spec.exclusiveMin && v <= spec.min)) { bad(`${v} is outside ${spec.exclusiveMin ? '(' : '['}${spec.min}, ${spec.max}]`); continue; }
      settings[spec.field] = v;
    } else if (spec.kind === 'enum') {
      if (typeof v !== 'string' || !spec.values.includes(v)) { bad(`${JSON.stringify(v)} is not one of ${spec.values.join(', ')}`); continue; }
      settings[spec.field] = v;
    } else {
      if (typeof v !== 'string') { bad(`${JSON.stringify(v)} is not text`); continue; }
      const t = v.trim();
      if (spec.pattern && !spec.pattern.test(t)) { bad(`${JSON.stringify(v)} is not ${spec.what ?? 'valid'}`); continue; }
      settings[spec.field] = t;
    }
  }
  return { settings: settings as unknown as AgentSettings, warnings };
}

/** The endpoint the agent loop runs against, from the agent settings and the key stored for its URL. */
export function endpointFromSettings(s: AgentSettings, apiKey: string | null): EndpointSettings {
  return {
    baseUrl: s.endpointUrl,
    model: s.model,
    apiKey,
    protocol: s.protocol,
    temperature: s.temperature,
    topP: s.topP,
    maxTokens: s.maxTokens,
    maxTurns: s.maxTurns,
    timeoutMs: s.timeoutSeconds * 1000,
  };
}

/** What `WorkspaceConfiguration.inspect` returns, reduced to what is read here. */
export interface InspectedValue {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/**
 * The raw value a setting takes. Trusted: the most specific scope wins, as VS Code does.
 * Untrusted and restricted: only the user's own (global) value or the default.
 */
export function effectiveValue(i: InspectedValue | undefined, trusted: boolean, restricted: boolean): unknown {
  if (!i) return undefined;
  if (!trusted && restricted) return i.globalValue ?? i.defaultValue;
  return i.workspaceFolderValue ?? i.workspaceValue ?? i.globalValue ?? i.defaultValue;
}

/** Raw values for validateAgentSettings from an inspect function (the vscode configuration's). */
export function readRawSettings(inspect: (key: string) => InspectedValue | undefined, trusted: boolean): Record<string, unknown> {
  return Object.fromEntries(AGENT_SETTINGS.map((s) => [s.key, effectiveValue(inspect(s.key), trusted, s.restricted)]));
}

/** The package.json `contributes.configuration.properties` for these settings (kept in sync by a test). */
export function configurationProperties(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of AGENT_SETTINGS) {
    const p: Record<string, unknown> = { description: s.description, default: s.default };
    if (s.kind === 'number') {
      p.type = s.integer ? 'integer' : 'number';
      p.minimum = s.min;
      p.maximum = s.max;
    } else if (s.kind === 'enum') {
      p.type = 'string';
      p.enum = s.values;
    } else p.type = 'string';
    if (s.restricted) p.scope = 'window';
    out[`specvet.${s.key}`] = p;
  }
  return out;
}
