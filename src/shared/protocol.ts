// The one typed message protocol between the extension host and its webviews.
// Imported by both sides; it must stay free of Node and vscode imports.
// Pattern (after microsoft/vscode-hexeditor shared/protocol.ts): one interface per message with a
// line of doc; requests carry a `requestId` and get exactly one typed reply.

/** Every message either side posts carries a discriminating `type`. */
export interface MessageBase {
  type: string;
}
