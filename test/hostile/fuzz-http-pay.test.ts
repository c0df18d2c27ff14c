import { payPageFuzzSuite } from '../support/fuzz-pages.js';

// GET /pay/<id>: the hand-off page a customer opens from a payment link. See test/support/fuzz-pages.ts.
payPageFuzzSuite('');
