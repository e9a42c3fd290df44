// The FITS viewer's second script, loaded after the spectrum's first paint (fits.entry.ts inserts
// it): the toolkit's web components, which upgrade the toolbar elements already in the page, and
// the agent trace panel with its markdown renderer. None of it is needed to draw the spectrum, and
// together they are most of the webview's code.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit/dist/toolkit.js'; // the self-contained bundle: the package's index pulls ~100 relative modules
import { TraceView } from './trace/traceView';

/** What this script hands to the main one (on `window`: the two bundles share nothing else). */
export interface FitsLateModules {
  TraceView: typeof TraceView;
}
declare global {
  interface Window { specvetFitsLate?: FitsLateModules }
}

// vscode-badge is not used: its template sets an inline style attribute, which the strict CSP blocks.
provideVSCodeDesignSystem().register(
  vsCodeButton(), vsCodeCheckbox(), vsCodeDropdown(), vsCodeOption(), vsCodePanels(), vsCodePanelTab(),
  vsCodePanelView(), vsCodeTextField(),
);

window.specvetFitsLate = { TraceView };
