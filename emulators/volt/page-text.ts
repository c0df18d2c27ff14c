import type { Catalogue, KeysOf, Words } from '../../src/html/language.js';

/**
 * The words of Volt's payer pages (the checkout where the payer chooses a bank, the sandbox bank's approval page
 * and the notices), one object per language with the same keys. `{name}` marks a value the page fills in.
 */

const EN = {
  tagline: 'sandbox emulator · no real bank is involved',
  title: 'Pay by bank',
  payTo: 'Pay to',
  amount: 'Amount',
  reference: 'Reference',
  chooseBank: 'Choose your bank',
  chooseBankToContinue: 'Choose your bank to continue.',
  continue: 'Continue',
  cancelPayment: 'Cancel payment',
  bankIntro: 'Sandbox online banking ({bank}). Please review and authorise this payment.',
  authorise: 'Authorise payment',
  refuse: 'Refuse',
  cancel: 'Cancel',
  abandon: 'Leave without finishing',
  backToMerchant: 'Return to the merchant',
  notFoundTitle: 'Payment not found',
  notFound: 'This checkout link is not valid.',
  processedTitle: 'Payment already processed',
  processed: 'This payment is {status}.',
  finishedTitle: 'Payment {status}',
  closeWindow: 'You can close this window.',
  chooseActionTitle: 'Choose an action',
  chooseAction: 'Authorise, refuse, cancel or leave the payment.',
} as const;

const RO: Words<KeysOf<typeof EN>> = {
  tagline: 'emulator de test · nu este implicată nicio bancă reală',
  title: 'Plată prin bancă',
  payTo: 'Plătiți către',
  amount: 'Suma',
  reference: 'Referință',
  chooseBank: 'Alegeți banca',
  chooseBankToContinue: 'Alegeți banca pentru a continua.',
  continue: 'Continuă',
  cancelPayment: 'Anulează plata',
  bankIntro: 'Internet banking de test ({bank}). Vă rugăm să verificați și să autorizați această plată.',
  authorise: 'Autorizează plata',
  refuse: 'Refuză',
  cancel: 'Renunță',
  abandon: 'Pleacă fără să termini',
  backToMerchant: 'Înapoi la comerciant',
  notFoundTitle: 'Plata nu a fost găsită',
  notFound: 'Acest link de plată nu este valid.',
  processedTitle: 'Plată deja procesată',
  processed: 'Această plată are starea {status}.',
  finishedTitle: 'Plată: {status}',
  closeWindow: 'Puteți închide această fereastră.',
  chooseActionTitle: 'Alegeți o acțiune',
  chooseAction: 'Autorizați, refuzați, anulați sau părăsiți plata.',
};

const IT: Words<KeysOf<typeof EN>> = {
  tagline: 'emulatore di test · nessuna banca reale è coinvolta',
  title: 'Paga con bonifico',
  payTo: 'Beneficiario',
  amount: 'Importo',
  reference: 'Riferimento',
  chooseBank: 'Scelga la sua banca',
  chooseBankToContinue: 'Scelga la sua banca per continuare.',
  continue: 'Continua',
  cancelPayment: 'Annulla il pagamento',
  bankIntro: 'Home banking di test ({bank}). Verifichi e autorizzi questo pagamento.',
  authorise: 'Autorizza il pagamento',
  refuse: 'Rifiuta',
  cancel: 'Annulla',
  abandon: 'Esci senza completare',
  backToMerchant: "Torna all'esercente",
  notFoundTitle: 'Pagamento non trovato',
  notFound: 'Questo link di pagamento non è valido.',
  processedTitle: 'Pagamento già elaborato',
  processed: 'Questo pagamento è nello stato {status}.',
  finishedTitle: 'Pagamento: {status}',
  closeWindow: 'Può chiudere questa finestra.',
  chooseActionTitle: "Scelga un'azione",
  chooseAction: 'Autorizzi, rifiuti, annulli o abbandoni il pagamento.',
};

export const VOLT_LANGUAGES = ['en', 'ro', 'it'] as const;
export type VoltLanguage = (typeof VOLT_LANGUAGES)[number];
export type VoltWordKey = KeysOf<typeof EN>;

export const VOLT_TEXT: Catalogue<VoltLanguage, VoltWordKey> = { en: EN, ro: RO, it: IT };
