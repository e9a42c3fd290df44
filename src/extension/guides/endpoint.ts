// The endpoint guide commands run against. Until the extension has its own endpoint settings and
// secret storage, this small accessor reads `specvet.endpoint.*` from the settings and the API key
// from an environment variable (never from settings), and offers the scripted inspector otherwise.
import * as vscode from 'vscode';
import { apiKeyFromEnv, type EndpointSettings } from '../../core/agent/endpoint';

export type GuideEndpoint = EndpointSettings | 'scripted';

/** `specvet.endpoint.baseUrl` ('scripted' or an http(s) URL), `.model`, `.protocol`, `.apiKeyEnv`. */
export function endpointFromSettings(): GuideEndpoint | null {
  const c = vscode.workspace.getConfiguration('specvet.endpoint');
  const baseUrl = (c.get<string>('baseUrl') ?? '').trim();
  if (!baseUrl) return null;
  if (baseUrl === 'scripted') return 'scripted';
  const protocol = c.get<string>('protocol') === 'native' ? 'native' : 'hermes';
  return {
    baseUrl,
    model: (c.get<string>('model') ?? '').trim() || 'spec-o3-7b',
    apiKey: apiKeyFromEnv(c.get<string>('apiKeyEnv') || undefined),
    protocol,
  };
}

/**
 * The endpoint to use: an explicit one (commands called with arguments), the settings, or, when none
 * is configured, the user's choice of the scripted inspector. Null when the user cancels.
 */
export async function resolveEndpoint(explicit?: GuideEndpoint | { baseUrl: string; model?: string }): Promise<GuideEndpoint | null> {
  if (explicit === 'scripted') return 'scripted';
  if (explicit && typeof explicit === 'object') return { model: 'spec-o3-7b', ...explicit } as EndpointSettings;
  const fromSettings = endpointFromSettings();
  if (fromSettings) return fromSettings;
  const pick = await vscode.window.showQuickPick(
    [
      { label: '$(debug-step-over) Run the scripted inspector', description: 'no model: opens the guide\'s windows, gives no verdict', id: 'scripted' },
      { label: '$(gear) Set an endpoint…', description: 'specvet.endpoint.baseUrl / model in the settings', id: 'settings' },
    ],
    { title: 'SpecVet: no model endpoint is configured' },
  );
  if (pick?.id === 'scripted') return 'scripted';
  if (pick?.id === 'settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'specvet.endpoint');
  return null;
}
