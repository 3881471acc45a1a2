// Module resolve hook: adds the "rs-arena-source" export condition, so the workspace packages
// resolve to their TypeScript sources, as `node --conditions=rs-arena-source` does.
export function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, 'rs-arena-source'] });
}
