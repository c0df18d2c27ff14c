// A verification thread that dies (its thread exits) on a job for connection `die`, and verifies every other job
// as the hub's own thread does: for the pool test of a dying thread.
import { register } from 'tsx/esm/api';

register();
const worker = await import('../../src/services/verify-worker.ts');
export default async function verify(job) {
  if (job.connection.id === 'die') process.exit(7);
  return worker.default(job);
}
