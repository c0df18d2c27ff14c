/**
 * The invoicing module: seller profile, numbering series, settings, documents (proformas, fiscal invoices,
 * stornos) and their collections, and their card payments (`payments.ts`: made through the ledger, followed by its hook).
 */
export * from './inputs.js';
export * from './setup.js';
export * from './documents.js';
export * from './payments.js';
