import type { FastifyInstance } from 'fastify';
import { documentedSchema } from '../../connectors/config-schema.js';
import { CONNECTORS } from '../../connectors/registry.js';
import { createConnection, getConnection, listConnections, presentConnection, updateConnection, type ConnectionInput } from '../../services/connections.js';
import type { HubContext } from '../../services/context.js';
import { requireMerchant, type AuthConfig } from '../auth.js';
import { CreateConnectionBody, IdParams, UpdateConnectionBody } from './schemas.js';

export async function connectionRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx } = opts;
  // Authentication runs first (onRequest), so a stranger never learns anything from validation errors.
  app.addHook('onRequest', requireMerchant(opts.auth));
  const tags = ['connections'];

  app.post<{ Body: ConnectionInput }>(
    '/v1/connections',
    {
      schema: {
        tags,
        summary:
          "Connect a processor account (credentials are encrypted at rest and never returned; environment 'emulator' provisions a sandbox account on the built-in emulator, and shows its sandbox back-office login as sandbox_back_office when the emulator has one)",
        body: CreateConnectionBody,
      },
    },
    async (request, reply) => {
      const row = await createConnection(ctx, request.merchant!.id, request.body);
      return reply.code(201).send(presentConnection(ctx, row));
    },
  );

  app.get('/v1/connections', { schema: { tags, summary: 'List connections' } }, async (request) => ({
    object: 'list',
    data: (await listConnections(ctx, request.merchant!.id)).map((r) => presentConnection(ctx, r)),
  }));

  app.get<{ Params: { id: string } }>(
    '/v1/connections/:id',
    { schema: { tags, summary: 'Get a connection by id or code', params: IdParams } },
    async (request) => presentConnection(ctx, await getConnection(ctx, request.merchant!.id, request.params.id)),
  );

  app.patch<{ Params: { id: string }; Body: { credentials?: unknown; settings?: unknown; status?: unknown } }>(
    '/v1/connections/:id',
    { schema: { tags, summary: 'Update settings (null clears one), replace credentials, or enable/disable', params: IdParams, body: UpdateConnectionBody } },
    async (request) => presentConnection(ctx, await updateConnection(ctx, request.merchant!.id, request.params.id, request.body)),
  );

  app.post<{ Params: { id: string } }>(
    '/v1/connections/:id/disable',
    { schema: { tags, summary: 'Disable a connection: no new payments; notifications are still recorded', params: IdParams } },
    async (request) => presentConnection(ctx, await updateConnection(ctx, request.merchant!.id, request.params.id, { status: 'disabled' })),
  );
}

type Json = Record<string, any>;

/**
 * The connections API in the OpenAPI document, per provider: each connector's credentials and settings schemas
 * (the declarations its validation comes from) become components, and the create and update bodies name them,
 * `provider` telling which applies. The routes themselves take any object there: the connector's own validation
 * answers with its field errors (`credentials.api_key`, …), which a schema check in front would pre-empt.
 * Secret credentials are `writeOnly` (and `x-secret`): never part of an answer.
 */
export function documentConnectionSchemas(document: { openapiObject: Json } | { swaggerObject: Json }): Json {
  if (!('openapiObject' in document)) return document.swaggerObject;
  const { openapiObject } = document;
  const components = (openapiObject.components ??= {});
  const schemas = (components.schemas ??= {});
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const credentialsOf: Json[] = [];
  const settingsOf: Json[] = [];
  const variants: Json[] = [];
  const create = openapiObject.paths?.['/v1/connections']?.post?.requestBody?.content?.['application/json'];
  for (const connector of Object.values(CONNECTORS)) {
    const credentials = `${connector.provider}.credentials`;
    const settings = `${connector.provider}.settings`;
    schemas[credentials] = documentedSchema(
      connector.schemas.credentials,
      `${connector.displayName}: credentials (encrypted at rest; secret fields are never returned; left out for environment 'emulator', which provisions them)`,
    );
    schemas[settings] = documentedSchema(connector.schemas.settings, `${connector.displayName}: settings (defaults apply to fields left out)`);
    credentialsOf.push(ref(credentials));
    settingsOf.push(ref(settings));
    if (create?.schema) {
      const base = create.schema as Json;
      const name = `${connector.provider}.connection`;
      schemas[name] = {
        ...base,
        title: connector.displayName,
        properties: { ...base.properties, provider: { type: 'string', const: connector.provider }, credentials: ref(credentials), settings: ref(settings) },
      };
      variants.push({ provider: connector.provider, ...ref(name) });
    }
  }
  if (create?.schema) {
    create.schema = {
      oneOf: variants.map(({ provider: _provider, ...r }) => r),
      discriminator: { propertyName: 'provider', mapping: Object.fromEntries(variants.map(({ provider, $ref }) => [provider, $ref])) },
    };
  }
  const update = openapiObject.paths?.['/v1/connections/{id}']?.patch?.requestBody?.content?.['application/json']?.schema as Json | undefined;
  if (update?.properties) {
    update.properties.credentials = { description: "the connection provider's credentials, replacing the stored ones", oneOf: credentialsOf };
    update.properties.settings = {
      description:
        "the connection provider's settings; fields left out keep their value, a field sent as null is cleared (its default applies, e.g. `endpoint: null` goes back to the environment's URL)",
      examples: [{ endpoint: null }],
      oneOf: settingsOf,
    };
  }
  return openapiObject;
}
