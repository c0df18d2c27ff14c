import type { ConsoleSection } from '../registry.js';
import { paymentsSection } from './payments/index.js';
import { operatorSection } from './operator/index.js';

/** The console's sections, one folder each (see registry.ts); a new section is one more line here. */
export const SECTIONS: readonly ConsoleSection[] = [paymentsSection, operatorSection];
