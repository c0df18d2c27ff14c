import { payPageFuzzSuite } from '../support/fuzz-pages.js';

// GET /pay/<id>/return: the page the processor sends the customer back to. See test/support/fuzz-pages.ts.
payPageFuzzSuite('/return');
