// Which endpoint guide commands run against: the agent's own settings (src/extension/agent/settings.ts:
// `specvet.endpoint.*`, `specvet.sampling.*`, `specvet.agent.*`, trust-aware) with the API key from
// SecretStorage per endpoint origin, exactly as the vetting editor runs. In an untrusted workspace no
// model is called: the scripted inspector is offered instead.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EndpointSettings } from '../../core/agent/endpoint';
import { secretKeyFor } from '../agent/input';
import { endpointFromSettings, readRawSettings, validateAgentSettings, type AgentSettings } from '../agent/settings';

export type GuideEndpoint = EndpointSettings | 'scripted';

export function agentSettings(): AgentSettings {
  const cfg = vscode.workspace.getConfiguration('specvet');
  return validateAgentSettings(readRawSettings((k) => cfg.inspect(k), vscode.workspace.isTrusted)).settings;
}

/** The traces folder of the settings (relative to the first workspace folder unless absolute). */
export function tracesFolder(s: AgentSettings, near?: string): string {
  if (path.isAbsolute(s.tracesFolder)) return s.tracesFolder;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? (near ? path.dirname(near) : process.cwd());
  return path.join(root, s.tracesFolder);
}

/**
 * The endpoint to use: an explicit one (commands called with arguments, tests), else the agent
 * settings with the stored key. Untrusted workspace: the scripted inspector if the user accepts it.
 * Null when the user cancels.
 */
export async function resolveEndpoint(secrets: vscode.SecretStorage, explicit?: GuideEndpoint | { baseUrl: string; model?: string }): Promise<GuideEndpoint | null> {
  if (explicit === 'scripted') return 'scripted';
  if (explicit && typeof explicit === 'object') return { model: 'spec-o3-7b', ...explicit } as EndpointSettings;
  if (!vscode.workspace.isTrusted) {
    const pick = await vscode.window.showWarningMessage(
      'SpecVet: this workspace is not trusted, so no model endpoint is called. Run the scripted inspector instead (it opens the guide\'s windows and gives no verdict)?',
      'Run scripted inspector',
    );
    return pick ? 'scripted' : null;
  }
  const s = agentSettings();
  return endpointFromSettings(s, (await secrets.get(secretKeyFor(s.endpointUrl))) ?? null);
}
