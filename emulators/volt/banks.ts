/**
 * The sandbox's banks: fictional, one per country the checkout offers. The French one has accented letters
 * on purpose — Volt sends them \u-escaped, and a merchant that decodes the body before checking the
 * signature fails on it.
 */
export interface SandboxBank {
  id: string;
  name: string;
  officialName: string;
  country: { id: string; name: string };
}

export const SANDBOX_BANKS: readonly SandboxBank[] = Object.freeze([
  {
    id: '5f0c8a2e-3b1d-4c55-9a61-0d3e7b9f1a01',
    name: 'Banque Démo Société',
    officialName: 'Banque Démo Société S.A. (sandbox)',
    country: { id: 'FR', name: 'France' },
  },
  {
    id: '5f0c8a2e-3b1d-4c55-9a61-0d3e7b9f1a02',
    name: 'Sandbox Sparkasse',
    officialName: 'Sandbox Sparkasse AG (sandbox)',
    country: { id: 'DE', name: 'Germany' },
  },
  {
    id: '5f0c8a2e-3b1d-4c55-9a61-0d3e7b9f1a03',
    name: 'Banca Prova Italiana',
    officialName: 'Banca Prova Italiana S.p.A. (sandbox)',
    country: { id: 'IT', name: 'Italy' },
  },
  {
    id: '5f0c8a2e-3b1d-4c55-9a61-0d3e7b9f1a04',
    name: 'Testbank Nederland',
    officialName: 'Testbank Nederland N.V. (sandbox)',
    country: { id: 'NL', name: 'Netherlands' },
  },
]);

export function bankById(id: string | null | undefined): SandboxBank | undefined {
  return SANDBOX_BANKS.find((b) => b.id === id);
}
