/**
 * What a conversation shows the end user when collected payment details are missing or wrong: one message per
 * field, in the conversation's language. Phrased as requests ("Please tell us …") so that Romanian needs no
 * gender agreement with the field's name.
 */

export const STEP_LANGUAGES = ['ro', 'en'] as const;
export type StepLanguage = (typeof STEP_LANGUAGES)[number];

export type StepField = 'Amount' | 'Currency' | 'Email' | 'Phone' | 'FirstName' | 'LastName' | 'City' | 'Country' | 'State' | 'ZipCode' | 'Details';

export type StepProblem =
  | { kind: 'missing' }
  | { kind: 'too_long'; max: number }
  | { kind: 'invalid_email' }
  | { kind: 'invalid_phone' }
  | { kind: 'invalid_country' }
  | { kind: 'invalid_amount' }
  | { kind: 'amount_not_positive' }
  | { kind: 'amount_decimals'; decimals: number; currency: string }
  | { kind: 'amount_too_large'; max: string; currency: string }
  | { kind: 'unknown_currency' }
  | { kind: 'currency_not_accepted'; accepted: string };

const LABELS: Record<StepLanguage, Record<StepField, string>> = {
  en: {
    Amount: 'the amount',
    Currency: 'the currency',
    Email: 'your email address',
    Phone: 'your phone number',
    FirstName: 'your first name',
    LastName: 'your last name',
    City: 'your city',
    Country: 'your country',
    State: 'your county or state',
    ZipCode: 'your postal code',
    Details: 'your street address',
  },
  ro: {
    Amount: 'suma',
    Currency: 'moneda',
    Email: 'adresa de email',
    Phone: 'numărul de telefon',
    FirstName: 'prenumele',
    LastName: 'numele de familie',
    City: 'localitatea',
    Country: 'țara',
    State: 'județul',
    ZipCode: 'codul poștal',
    Details: 'adresa (stradă, număr)',
  },
};

const SHIPPING: Record<StepLanguage, string> = { en: ' for delivery', ro: ' pentru livrare' };

export const STEP_TITLES: Record<StepLanguage, string> = {
  en: 'Some payment details are missing or invalid',
  ro: 'Unele date pentru plată lipsesc sau nu sunt corecte',
};

/** The message for one field, e.g. "Please tell us your email address for delivery." */
export function stepMessage(language: StepLanguage, field: StepField, shipping: boolean, problem: StepProblem): string {
  const label = LABELS[language][field] + (shipping ? SHIPPING[language] : '');
  if (language === 'ro') {
    switch (problem.kind) {
      case 'missing':
        return `Vă rugăm să ne spuneți ${label}.`;
      case 'too_long':
        return `Vă rugăm să scurtați ${label}: cel mult ${problem.max} de caractere.`;
      case 'invalid_email':
        return `Vă rugăm să verificați ${label}: trebuie să arate ca nume@exemplu.ro.`;
      case 'invalid_phone':
        return `Vă rugăm să verificați ${label}: doar cifre, eventual cu + la început (de exemplu +40712345678).`;
      case 'invalid_country':
        return `Vă rugăm să verificați ${label}: nu o recunoaștem (codul numeric ISO 3166-1, de exemplu 642 pentru România).`;
      case 'invalid_amount':
        return `Vă rugăm să verificați ${label}: trebuie să fie un număr, de exemplu 125.50.`;
      case 'amount_not_positive':
        return `Vă rugăm să verificați ${label}: trebuie să fie mai mare decât zero.`;
      case 'amount_decimals':
        return `Vă rugăm să verificați ${label}: în ${problem.currency} sunt permise cel mult ${problem.decimals} zecimale.`;
      case 'amount_too_large':
        return `Vă rugăm să verificați ${label}: cel mult ${problem.max} ${problem.currency}.`;
      case 'unknown_currency':
        return `Vă rugăm să verificați ${label}: folosiți un cod ISO 4217, de exemplu RON sau EUR.`;
      case 'currency_not_accepted':
        return `Vă rugăm să alegeți altă monedă: se acceptă ${problem.accepted}.`;
    }
  }
  switch (problem.kind) {
    case 'missing':
      return `Please tell us ${label}.`;
    case 'too_long':
      return `Please shorten ${label}: at most ${problem.max} characters.`;
    case 'invalid_email':
      return `Please check ${label}: it should look like name@example.com.`;
    case 'invalid_phone':
      return `Please check ${label}: digits only, optionally starting with + (for example +40712345678).`;
    case 'invalid_country':
      return `Please check ${label}: we do not recognise it (the ISO 3166-1 numeric code, for example 642 for Romania).`;
    case 'invalid_amount':
      return `Please check ${label}: it must be a number, for example 125.50.`;
    case 'amount_not_positive':
      return `Please check ${label}: it must be more than zero.`;
    case 'amount_decimals':
      return `Please check ${label}: ${problem.currency} allows at most ${problem.decimals} decimals.`;
    case 'amount_too_large':
      return `Please check ${label}: at most ${problem.max} ${problem.currency}.`;
    case 'unknown_currency':
      return `Please check ${label}: use an ISO 4217 code such as RON or EUR.`;
    case 'currency_not_accepted':
      return `Please choose another currency: ${problem.accepted} are accepted.`;
  }
}
