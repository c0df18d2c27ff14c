import type { ConsoleSection } from '../registry.js';
import { connectionsSection } from './connections/index.js';
import { overviewSection } from './overview/index.js';
import { paymentsSection } from './payments/index.js';
import { operatorSection } from './operator/index.js';
import { teamSection } from './team/index.js';
import { webhooksSection } from './webhooks/index.js';

/** The console's sections, one folder each (see registry.ts); a new section is one more line here. */
export const SECTIONS: readonly ConsoleSection[] = [overviewSection, paymentsSection, connectionsSection, webhooksSection, teamSection, operatorSection];
