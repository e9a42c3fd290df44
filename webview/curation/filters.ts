// The curator's list filters: pure functions over the host's trajectory summaries.
import type { CurationFilters, CurationTraceSummary } from '../../src/shared/protocol';

export function defaultFilters(): CurationFilters {
  return { verdict: 'any', label: 'any', status: 'any', guide: 'any', curation: 'any', text: '' };
}

/** Does trajectory `t` pass every filter? The text filter matches id, spectrum, file, guide, model and note. */
export function matches(t: CurationTraceSummary, f: CurationFilters): boolean {
  if (f.verdict !== 'any' && (f.verdict === 'none' ? t.verdict !== null : t.verdict !== f.verdict)) return false;
  if (f.label === 'disagrees') {
    if (t.label === null || t.label === t.verdict) return false;
  } else if (f.label !== 'any' && (f.label === 'none' ? t.label !== null : t.label !== f.label)) return false;
  if (f.status !== 'any' && t.status !== f.status) return false;
  if (f.guide !== 'any' && t.guideId !== f.guide) return false;
  if (f.curation !== 'any' && t.curation !== f.curation) return false;
  const q = f.text.trim().toLowerCase();
  if (q) {
    const hay = [t.id, t.spectrumId, t.file, t.guideId, t.model, t.note ?? '', t.survey].join(' ').toLowerCase();
    if (!q.split(/\s+/).every((w) => hay.includes(w))) return false;
  }
  return true;
}

/** Distinct values of a field, sorted, for a filter's options. */
export function distinct(list: CurationTraceSummary[], key: 'guideId' | 'status'): string[] {
  return [...new Set(list.map((t) => t[key]))].sort();
}
