import { fileURLToPath } from 'node:url';

// Interoperability fixtures made outside this project live beside the checkout, in ../shared/test-vectors
// (see its README); they are read-only inputs, not part of the repository.
const repositoryRoot = new URL('../../', import.meta.url);

/** Absolute path of the shared test vector `name`. */
export function vectorPath(name: string): string {
  return fileURLToPath(new URL(`../shared/test-vectors/${name}`, repositoryRoot));
}
