import { type Command, Option } from 'commander';
import { call, CliError, type GlobalOptions, savedOperatorKey } from './client.js';

/**
 * `incasso users create`: a console user, created through the hub's API, with the one-time link to set its
 * password. With the operator key (--key adm_…, INCASSO_ADMIN_KEY or <data dir>/admin.key) any user; with a
 * merchant's API key (--key sk_… or INCASSO_API_KEY) an admin or viewer of that merchant.
 */
export function registerUsersCommand(
  program: Command,
  helpers: { globals: (cmd: Command) => GlobalOptions; required: (cmd: Command, flags: string | Option, description?: string) => Command },
): void {
  const users = program.command('users').description('console users (operator key, or a merchant admin’s API key)');
  const create = users
    .command('create')
    .description(
      "create a console user; prints a one-time link to set its password (operator key: any user; a merchant's API key: its own admins and viewers)",
    );
  helpers.required(create, '--email <email>', "the user's e-mail (their login)");
  helpers.required(
    create,
    new Option('--role <role>', 'operator: the whole hub; admin: one merchant; viewer: one merchant, read only (required)').choices([
      'operator',
      'admin',
      'viewer',
    ]),
  );
  create
    .option('--merchant <id>', 'the merchant of an admin or viewer (operator key only)')
    .addOption(new Option('--language <lang>', "the console's language for this user (default: the browser's)").choices(['ro', 'en', 'it']))
    .action(async (o: { email: string; role: string; merchant?: string; language?: string }, cmd: Command) => {
      const options = helpers.globals(cmd);
      const key = consoleUserKey(options);
      const { path, body } = userRequest(o, key.startsWith('sk_'));
      const user = await call(options, key, 'POST', path, body);
      if (options.json) process.stdout.write(JSON.stringify(user, null, 2) + '\n');
      else process.stdout.write(describeCreatedUser(user));
    });
}

/** The key that creates console users: the one given, else the operator's, else the merchant's. */
function consoleUserKey(options: GlobalOptions): string {
  if (options.key) return options.key;
  let operatorKey: string | undefined;
  try {
    operatorKey = savedOperatorKey();
  } catch {
    // a setting the hub would refuse: no data directory to read the key from
  }
  const key = operatorKey ?? process.env.INCASSO_API_KEY;
  if (!key) throw new CliError('no key: set INCASSO_ADMIN_KEY (any user) or INCASSO_API_KEY (a merchant: its own users), or pass --key');
  return key;
}

/** Which route creates the user, and with what: a merchant's key makes users of its own merchant only. */
export function userRequest(o: { email: string; role: string; merchant?: string; language?: string }, asMerchant: boolean) {
  const body: Record<string, string> = { email: o.email, role: o.role };
  if (o.language) body.language = o.language;
  if (asMerchant) {
    if (o.role === 'operator') throw new CliError("a merchant's API key creates only admin and viewer users");
    if (o.merchant) throw new CliError("--merchant is for the operator key: a merchant's API key creates users of its own merchant");
    return { path: '/v1/merchant/users', body };
  }
  if (o.role !== 'operator' && !o.merchant) throw new CliError(`--merchant ID is required for an ${o.role}`, 2);
  if (o.role === 'operator' && o.merchant) throw new CliError('the operator belongs to no merchant: leave out --merchant', 2);
  if (o.merchant) body.merchant_id = o.merchant;
  return { path: '/v1/users', body };
}

function describeCreatedUser(user: {
  role: string;
  email: string;
  id: string;
  merchant_id?: string | null;
  set_password_expires_at: string;
  set_password_url: string;
}) {
  return (
    `Created ${user.role} ${user.email} (${user.id}${user.merchant_id ? `, merchant ${user.merchant_id}` : ''}).\n` +
    `Send this one-time link to set the password (valid until ${user.set_password_expires_at}; it is not shown again):\n` +
    `${user.set_password_url}\n`
  );
}
