/**
 * The invoicing module: seller profile, numbering series, settings, documents (proformas, fiscal invoices,
 * stornos) and their collections. Payments of invoices go through the ledger like any other (the next step's hook).
 */
export * from './inputs.js';
export * from './setup.js';
export * from './documents.js';
