import type { ConsoleSession, Role } from '../../services/users.js';
import type { Language } from './i18n.js';

/** One entry of the console's navigation, as the current user may see it. */
export interface NavItem {
  name: string;
  href: string;
  label: string;
}

/** What the console knows of a request: who is logged in (if anyone), in which language, and what they may see. */
export interface ConsoleRequest {
  session?: ConsoleSession;
  language: Language;
  nav: NavItem[];
  /**
   * Whether the session is still open, without counting as activity (a long-lived stream asks it now and then,
   * so a logout or the session's expiry closes the stream).
   */
  stillLive?: () => Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyRequest {
    console?: ConsoleRequest;
  }
  interface FastifyContextConfig {
    /** A console route anyone may open (login, set-password, assets): no session needed. */
    consolePublic?: boolean;
  }
}

export type { Role };
