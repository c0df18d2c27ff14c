/**
 * The console's languages and typed catalogues. A catalogue is written in English first; the Romanian and Italian
 * ones must have exactly the same keys (the type checker refuses a missing or an unknown key). Each section keeps
 * its own catalogue in its folder; the strings every page shares are here.
 */

export type Language = 'ro' | 'en' | 'it';
export const LANGUAGES: readonly Language[] = ['ro', 'en', 'it'];
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = { ro: 'Română', en: 'English', it: 'Italiano' };

export type Vars = Readonly<Record<string, string | number>>;
export type Translate<K extends string> = (key: K, vars?: Vars) => string;

export interface Catalogue<K extends string> {
  readonly en: Readonly<Record<K, string>>;
  readonly ro: Readonly<Record<K, string>>;
  readonly it: Readonly<Record<K, string>>;
  /** The strings of one language, with `{name}` placeholders filled from `vars`. */
  in(language: Language): Translate<K>;
}

/** A catalogue whose keys are the English one's: Romanian and Italian must give each of them, and nothing else. */
export function catalogue<const K extends string>(strings: {
  en: Record<K, string>;
  ro: NoInfer<Record<K, string>>;
  it: NoInfer<Record<K, string>>;
}): Catalogue<K> {
  return {
    ...strings,
    in(language) {
      const table = strings[language];
      return (key, vars) => {
        const text = table[key];
        return vars ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : text;
      };
    },
  };
}

/** The language a browser asks for first among ours (Accept-Language, by weight); English when none. */
export function languageFromHeader(header: string | undefined): Language {
  if (!header) return 'en';
  const wanted = header
    .slice(0, 500)
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
      return { tag: (tag ?? '').trim().toLowerCase(), q: q ? Number(q[1]) : 1, index };
    })
    .filter((w) => w.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const w of wanted) {
    const base = w.tag.split('-')[0] as Language;
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

export const isLanguage = (value: unknown): value is Language => typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);

/** What every console page shares: the layout, logging in and out, setting a password, errors. */
export const common = catalogue({
  en: {
    console: 'incasso console',
    skip: 'Skip to content',
    sections: 'Sections',
    signed_in_as: 'Signed in as {email} ({role})',
    role_operator: 'operator',
    role_admin: 'admin',
    role_viewer: 'viewer',
    log_out: 'Log out',
    language: 'Language',
    change_language: 'Change language',
    login_title: 'Log in',
    email: 'E-mail',
    password: 'Password',
    log_in: 'Log in',
    login_refused: 'The e-mail or the password is not right.',
    login_blocked: 'Too many failed attempts. Try again in {seconds} seconds.',
    logged_out: 'You are logged out.',
    session_expired: 'Your session has ended. Please log in again.',
    set_password_title: 'Set your password',
    set_password_for: 'Choose a password for {email}.',
    new_password: 'New password',
    repeat_password: 'Repeat the password',
    password_hint: 'At least {min} characters.',
    save_password: 'Save the password',
    password_set: 'Your password is set. You can log in now.',
    password_weak: 'The password must have between {min} and {max} characters.',
    password_mismatch: 'The two passwords are not the same.',
    link_invalid: 'This link is not valid any more (it was used, or it expired). Ask for a new one.',
    go_to_login: 'Go to the login page',
    not_found_title: 'Not found',
    not_found_text: 'There is nothing here, or it is not yours to see.',
    forbidden_title: 'Not allowed',
    forbidden_text: 'Your role does not allow this page.',
    refused_title: 'Request refused',
    csrf_text: 'The form was too old or did not come from this console. Go back, reload the page and try again.',
    bad_request_title: 'Something in the request is not right',
    error_title: 'Something went wrong',
    error_text: 'The request failed unexpectedly; it was logged. Please try again.',
    unavailable_text: 'The database is not reachable right now. Please try again shortly.',
  },
  ro: {
    console: 'Consola incasso',
    skip: 'Salt la conținut',
    sections: 'Secțiuni',
    signed_in_as: 'Autentificat ca {email} ({role})',
    role_operator: 'operator',
    role_admin: 'administrator',
    role_viewer: 'vizualizare',
    log_out: 'Deconectare',
    language: 'Limba',
    change_language: 'Schimbă limba',
    login_title: 'Autentificare',
    email: 'E-mail',
    password: 'Parolă',
    log_in: 'Autentificare',
    login_refused: 'E-mailul sau parola nu sunt corecte.',
    login_blocked: 'Prea multe încercări eșuate. Încercați din nou peste {seconds} secunde.',
    logged_out: 'V-ați deconectat.',
    session_expired: 'Sesiunea s-a încheiat. Vă rugăm să vă autentificați din nou.',
    set_password_title: 'Setați parola',
    set_password_for: 'Alegeți o parolă pentru {email}.',
    new_password: 'Parola nouă',
    repeat_password: 'Repetați parola',
    password_hint: 'Cel puțin {min} caractere.',
    save_password: 'Salvează parola',
    password_set: 'Parola a fost setată. Vă puteți autentifica acum.',
    password_weak: 'Parola trebuie să aibă între {min} și {max} caractere.',
    password_mismatch: 'Cele două parole nu coincid.',
    link_invalid: 'Acest link nu mai este valabil (a fost folosit sau a expirat). Cereți unul nou.',
    go_to_login: 'Mergi la autentificare',
    not_found_title: 'Negăsit',
    not_found_text: 'Nu există nimic aici sau nu aveți acces.',
    forbidden_title: 'Nepermis',
    forbidden_text: 'Rolul dumneavoastră nu permite această pagină.',
    refused_title: 'Cerere refuzată',
    csrf_text: 'Formularul era prea vechi sau nu a venit din această consolă. Reveniți, reîncărcați pagina și încercați din nou.',
    bad_request_title: 'Ceva din cerere nu este corect',
    error_title: 'Ceva nu a mers',
    error_text: 'Cererea a eșuat neașteptat; a fost înregistrată. Încercați din nou.',
    unavailable_text: 'Baza de date nu poate fi accesată acum. Încercați din nou în curând.',
  },
  it: {
    console: 'Console incasso',
    skip: 'Vai al contenuto',
    sections: 'Sezioni',
    signed_in_as: 'Accesso come {email} ({role})',
    role_operator: 'operatore',
    role_admin: 'amministratore',
    role_viewer: 'sola lettura',
    log_out: 'Esci',
    language: 'Lingua',
    change_language: 'Cambia lingua',
    login_title: 'Accedi',
    email: 'E-mail',
    password: 'Password',
    log_in: 'Accedi',
    login_refused: "L'e-mail o la password non sono corrette.",
    login_blocked: 'Troppi tentativi falliti. Riprova tra {seconds} secondi.',
    logged_out: 'Sei uscito.',
    session_expired: 'La sessione è terminata. Accedi di nuovo.',
    set_password_title: 'Imposta la password',
    set_password_for: 'Scegli una password per {email}.',
    new_password: 'Nuova password',
    repeat_password: 'Ripeti la password',
    password_hint: 'Almeno {min} caratteri.',
    save_password: 'Salva la password',
    password_set: 'La password è impostata. Ora puoi accedere.',
    password_weak: 'La password deve avere tra {min} e {max} caratteri.',
    password_mismatch: 'Le due password non coincidono.',
    link_invalid: 'Questo link non è più valido (è stato usato o è scaduto). Chiedine uno nuovo.',
    go_to_login: "Vai alla pagina d'accesso",
    not_found_title: 'Non trovato',
    not_found_text: 'Qui non c’è nulla, oppure non puoi vederlo.',
    forbidden_title: 'Non consentito',
    forbidden_text: 'Il tuo ruolo non consente questa pagina.',
    refused_title: 'Richiesta rifiutata',
    csrf_text: 'Il modulo era troppo vecchio o non proveniva da questa console. Torna indietro, ricarica la pagina e riprova.',
    bad_request_title: 'Qualcosa nella richiesta non va',
    error_title: 'Qualcosa è andato storto',
    error_text: 'La richiesta non è riuscita; è stata registrata. Riprova.',
    unavailable_text: 'Il database non è raggiungibile ora. Riprova tra poco.',
  },
});

export type CommonKey = keyof typeof common.en;
