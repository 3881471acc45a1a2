// The repository's root, with a trailing slash. Tests run from it (scripts/test.mjs) whether from the
// TypeScript or from its compiled tree (scripts/compiled-tree.mjs): a root taken from import.meta.url
// would be the tree's, whose entries are links that a copy (pack, a Dockerfile's replay) keeps as links.
export const ROOT = `${process.cwd()}/`;
