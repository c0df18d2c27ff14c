import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../../services/context.js';
import type { Role } from '../../services/users.js';
import type { Language } from './i18n.js';

/**
 * A console section is one folder, `sections/<name>/`, whose index exports one `ConsoleSection`: its routes
 * (mounted under `/console/<name>`), the roles that may open it (checked on every one of its routes before its
 * handler runs), its entry in the navigation, and its own catalogue of strings (kept in the folder). Adding a
 * section is that folder plus one line in `sections/index.ts`.
 */
export interface ConsoleSection {
  /** The folder's name and the URL segment (`/console/<name>`). */
  name: string;
  /** Who may open it; the navigation shows it only to them. */
  roles: readonly Role[];
  /** Its place in the navigation (lower first). */
  order: number;
  /** The navigation entry's text. */
  navLabel: (language: Language) => string;
  /** Registers its routes, relative to `/console/<name>` (an encapsulated plugin: its hooks stay its own). */
  routes: (app: FastifyInstance, deps: { ctx: HubContext }) => Promise<void>;
  /** Files its pages load (scripts), served to anyone at `/console/assets/<file>` and cached for a year. */
  assets?: readonly ConsoleAsset[];
}

/** A static file of a section. Its name carries a version or a hash of its content, so a change is a new name. */
export interface ConsoleAsset {
  file: string;
  /** Its Content-Type. */
  type: string;
  body: string | Buffer;
}

/** Where the console serves an asset. */
export const assetPath = (asset: ConsoleAsset) => `/console/assets/${asset.file}`;

export function defineSection(section: ConsoleSection): ConsoleSection {
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(section.name)) throw new Error(`console section name ${JSON.stringify(section.name)} is not a URL segment`);
  for (const a of section.assets ?? [])
    if (!/^[a-z0-9][a-z0-9._-]{0,100}$/.test(a.file)) throw new Error(`console asset ${JSON.stringify(a.file)} is not a file name`);
  return section;
}
