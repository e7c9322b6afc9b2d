/**
 * The views of the inspection panel, in tab order: the one list of their names and labels (the tabs,
 * the URL's `view=`, the store's type). ViewsPanel maps each name to its component, typed so a view
 * added here without a component does not compile.
 */
export const VIEW_LIST = [
  { id: 'indexer', label: 'Indexer' },
  { id: 'experts', label: 'Experts' },
  { id: 'memory', label: 'Memory' },
  { id: 'speed', label: 'Speed' },
  { id: 'classroom', label: 'Classroom' },
] as const;

export type ViewName = (typeof VIEW_LIST)[number]['id'];

export function isViewName(v: unknown): v is ViewName {
  return VIEW_LIST.some((x) => x.id === v);
}
