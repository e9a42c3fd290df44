// The one handle on the VS Code webview API, typed with the shared protocol.
import type { HostToWebviewMessage, WebviewToHostMessage } from '../src/shared/protocol';

interface VsCodeApi<S> {
  postMessage(message: WebviewToHostMessage): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export function getVsCodeApi<S>(): VsCodeApi<S> {
  return acquireVsCodeApi<S>();
}

export function onHostMessage(handler: (msg: HostToWebviewMessage) => void): void {
  window.addEventListener('message', (e: MessageEvent) => {
    const data = e.data as HostToWebviewMessage | undefined;
    if (data && typeof data === 'object' && typeof data.type === 'string') handler(data);
  });
}
