// Worker threads do not inherit the main thread's TypeScript loader: register tsx here, then load the worker.
import { register } from 'tsx/esm/api';

register();
const worker = await import('./verify-worker.ts');
export default worker.default;
