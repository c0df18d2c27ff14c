/**
 * Credentials and settings of a connector, declared once as TypeBox schemas. From one declaration come:
 * - the validation (`readConfig`): one `credentials.<name>` / `settings.<name>` field error per refused field;
 * - the `Secret` wrapping of secret fields (`SecretText`), which print as `[redacted]` everywhere;
 * - the OpenAPI description of the connections API (`documentedSchema`), secret fields `writeOnly`;
 * - a plain form description a dashboard can render (`formOf`).
 *
 * The keywords of ours ride on the JSON Schema as OpenAPI `x-` extensions (validators and the document ignore them):
 * `x-error` the field error when a value is refused; `x-error-absent` when it is missing, blank or of the wrong
 * type (else `x-error`); `x-trim` drop surrounding whitespace first; `x-case` upper- or lower-case letters first;
 * `x-secret` a secret (write-only, never shown back); `x-public` a non-secret credential shown back by the API;
 * `x-form` how a form shows the field (`text`, `secret`, `pem`, `choice`, `number`). A field with a `default`
 * may be left out (null counts as left out, as `??` reads it), and gets its default.
 */
import {
  Kind,
  OptionalKind,
  TransformKind,
  Type,
  type SchemaOptions,
  type StaticDecode,
  type TObject,
  type TSchema,
  type TString,
  type TTransform,
} from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { FieldErrors } from '../core/validation.js';
import { Secret } from '../security/secret.js';

export interface FieldKeywords {
  'x-error': string;
  'x-error-absent'?: string;
  'x-trim'?: boolean;
  'x-case'?: 'upper' | 'lower';
  'x-secret'?: boolean;
  'x-public'?: boolean;
  'x-form'?: FormField['kind'];
}

type FieldOptions = SchemaOptions & FieldKeywords;

/**
 * A field's decode refused the value (a PEM that does not parse, say): `message` is the whole field error, `at`
 * the part of the field it is about (`[1]` for an array's second item), if any.
 */
export class FieldRefusal extends Error {
  /** Every refusal, when a decode found several (one per array item, say). */
  readonly all: ReadonlyArray<{ at: string; message: string }>;
  constructor(message: string | ReadonlyArray<{ at: string; message: string }>, at = '') {
    super(typeof message === 'string' ? message : message.map((m) => m.message).join('; '));
    this.all = typeof message === 'string' ? [{ at, message }] : message;
  }
}

/** A plain string field. */
export function Text(options: FieldOptions & { minLength?: number; maxLength?: number; pattern?: string; default?: string }): TString {
  return Type.String(options);
}

/** A string marked secret (write-only, never shown back), for a field that decodes it itself (see `SecretText`). */
export function SecretString(options: FieldOptions & { minLength?: number; maxLength?: number; pattern?: string }): TString {
  return Type.String({ 'x-form': 'secret', ...options, writeOnly: true, 'x-secret': true });
}

/** A secret string: write-only in the API, never shown back, held in a `Secret` once read. */
export function SecretText(options: FieldOptions & { minLength?: number; maxLength?: number; pattern?: string }): TTransform<TString, Secret<string>> {
  return Type.Transform(SecretString(options))
    .Decode((value) => new Secret(value))
    .Encode((secret) => secret.reveal());
}

/** One of a few strings (documented as an enum). */
export function Choice<const T extends readonly string[]>(values: T, options: FieldOptions & { default?: T[number] }) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { 'x-form': 'choice', ...options },
  ) as unknown as TSchema & { static: T[number] };
}

const CONTROL = '\\u0000-\\u001f\\u007f';
/** A pattern for text without control characters (and, with `nonBlank`, with at least one non-space character). */
export const printable = (nonBlank = false) => (nonBlank ? `^[^${CONTROL}]*\\S[^${CONTROL}]*$` : `^[^${CONTROL}]*$`);

/** Fields of a schema that `readConfig` reads, with what the object says about them. */
function fieldsOf(schema: TObject): Array<[string, TSchema & Partial<FieldKeywords>]> {
  return Object.entries(schema.properties) as Array<[string, TSchema & Partial<FieldKeywords>]>;
}

const isOptional = (s: TSchema) => (s as unknown as Record<symbol, unknown>)[OptionalKind] === 'Optional';
const hasDefault = (s: TSchema) => Object.prototype.hasOwnProperty.call(s, 'default');

/** The JSON type of a value as JSON Schema names it. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The JSON types a schema may accept (for picking the variant of a union a value was meant for). */
function typesOf(schema: TSchema): string[] {
  const s = schema as TSchema & { type?: string | string[]; const?: unknown; anyOf?: TSchema[] };
  if (s.anyOf) return s.anyOf.flatMap(typesOf);
  if (s.const !== undefined) return [jsonType(s.const)];
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  return types.includes('number') ? [...types, 'integer'] : types;
}

/**
 * Where a value fails a schema, as `[at, schema]` pairs: into arrays item by item (`[1]`), into the one variant of
 * a union the value's JSON type matches; elsewhere the schema as a whole.
 */
function failures(schema: TSchema, value: unknown, at = ''): Array<[string, TSchema]> {
  const s = schema as TSchema & { anyOf?: TSchema[]; items?: TSchema; minItems?: number; maxItems?: number };
  if (s[Kind] === 'Union' && s.anyOf) {
    if (Value.Check(schema, value)) return [];
    const meant = s.anyOf.filter((v) => typesOf(v).includes(jsonType(value)));
    return meant.length === 1 && !s.anyOf.every((v) => (v as { const?: unknown }).const !== undefined) ? failures(meant[0]!, value, at) : [[at, schema]];
  }
  if (s[Kind] === 'Array' && Array.isArray(value) && s.items) {
    if ((s.minItems !== undefined && value.length < s.minItems) || (s.maxItems !== undefined && value.length > s.maxItems)) return [[at, schema]];
    return value.flatMap((item, i) => failures(s.items!, item, `${at}[${i}]`));
  }
  return Value.Check(schema, value) ? [] : [[at, schema]];
}

function normalize(schema: Partial<FieldKeywords>, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  let v = schema['x-trim'] ? value.trim() : value;
  if (schema['x-case'] === 'upper') v = v.toUpperCase();
  if (schema['x-case'] === 'lower') v = v.toLowerCase();
  return v;
}

function decode(schema: TSchema, value: unknown): unknown {
  const transform = (schema as unknown as Record<symbol, { Decode(v: unknown): unknown } | undefined>)[TransformKind];
  return transform ? transform.Decode(value) : value;
}

/** The field error of a refused value: `x-error-absent` for a missing, blank or mistyped value, else `x-error`. */
function messageOf(field: Partial<FieldKeywords>, failed: Partial<FieldKeywords>, value: unknown, schema: TSchema): string {
  const absent = value === undefined || value === null || (typeof value === 'string' && value.trim() === '') || !typesOf(schema).includes(jsonType(value));
  const own = failed !== field ? failed['x-error'] : undefined;
  return own ?? (absent ? (field['x-error-absent'] ?? field['x-error']) : field['x-error']) ?? 'is invalid';
}

/**
 * Reads credentials or settings (`prefix`) against their schema: defaults applied, strings normalized, every field
 * checked (all refusals reported together, in the schema's order), then decoded (secrets wrapped, keys parsed).
 * Fields the schema does not name are left out of the result. Throws ValidationError.
 */
export function readConfig<T extends TObject>(schema: T, raw: unknown, prefix: 'credentials' | 'settings'): StaticDecode<T> {
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const errors = new FieldErrors();
  const out: Record<string, unknown> = {};
  for (const [name, field] of fieldsOf(schema)) {
    let value = Object.prototype.hasOwnProperty.call(input, name) ? input[name] : undefined;
    if (hasDefault(field) && (value === undefined || value === null)) value = structuredClone((field as { default: unknown }).default);
    if (value === undefined && isOptional(field)) continue;
    value = normalize(field, value);
    const failed = failures(field, value);
    if (failed.length > 0) {
      for (const [at, s] of failed) errors.add(`${prefix}.${name}${at}`, messageOf(field, s as Partial<FieldKeywords>, value, field));
      continue;
    }
    try {
      const decoded = decode(field, value);
      if (decoded !== undefined) out[name] = decoded;
    } catch (e) {
      if (e instanceof FieldRefusal) for (const r of e.all) errors.add(`${prefix}.${name}${r.at}`, r.message);
      else errors.add(`${prefix}.${name}`, field['x-error'] ?? 'is invalid');
    }
  }
  errors.throwIfAny();
  return out as StaticDecode<T>;
}

/** The non-secret credentials marked `x-public`, as the API shows them back. */
export function publicFields(schema: TObject, credentials: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, field] of fieldsOf(schema)) {
    const value = (credentials as Record<string, unknown>)[name];
    if (field['x-public'] && !field['x-secret'] && typeof value === 'string') out[name] = value;
  }
  return out;
}

/** The names of a schema's secret fields. */
export function secretFields(schema: TObject): string[] {
  return fieldsOf(schema)
    .filter(([, f]) => f['x-secret'])
    .map(([name]) => name);
}

/**
 * The schema as the OpenAPI document shows it: plain JSON (no TypeBox symbols), fields with a default or marked
 * optional not required, secret fields `writeOnly`. Other fields are allowed (sandbox accounts keep extras).
 */
export function documentedSchema(schema: TObject, description?: string): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, field] of fieldsOf(schema)) {
    properties[name] = JSON.parse(JSON.stringify(field));
    if (!isOptional(field) && !hasDefault(field)) required.push(name);
  }
  return { type: 'object', ...(description ? { description } : {}), properties, ...(required.length ? { required } : {}) };
}

/** One field of a connection form, as a dashboard renders it. */
export interface FormField {
  name: string;
  kind: 'text' | 'secret' | 'pem' | 'choice' | 'number';
  label: string;
  required: boolean;
  /** Shown back by the API once saved: settings, and the credentials marked `x-public` (never a secret: the form asks anew). */
  shownBack: boolean;
  description?: string;
  default?: unknown;
  options?: readonly string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
}

/** A plain description of the fields of a connector's credentials or settings form. */
export function formOf(schema: TObject, part: 'credentials' | 'settings'): FormField[] {
  return fieldsOf(schema).map(([name, f]) => {
    const s = f as TSchema & {
      title?: string;
      description?: string;
      default?: unknown;
      anyOf?: Array<{ const?: unknown }>;
      type?: string;
      minimum?: number;
      maximum?: number;
      maxLength?: number;
      pattern?: string;
    };
    const options = s.anyOf?.every((v) => typeof v.const === 'string') ? s.anyOf.map((v) => v.const as string) : undefined;
    const kind: FormField['kind'] =
      f['x-form'] ?? (f['x-secret'] ? 'secret' : options ? 'choice' : s.type === 'integer' || s.type === 'number' ? 'number' : 'text');
    return {
      name,
      kind,
      label: s.title ?? name,
      required: !isOptional(f) && !hasDefault(f),
      shownBack: !f['x-secret'] && (part === 'settings' || f['x-public'] === true),
      ...(s.description ? { description: s.description } : {}),
      ...(hasDefault(f) ? { default: s.default } : {}),
      ...(options ? { options } : {}),
      ...(s.minimum !== undefined ? { minimum: s.minimum } : {}),
      ...(s.maximum !== undefined ? { maximum: s.maximum } : {}),
      ...(s.maxLength !== undefined ? { maxLength: s.maxLength } : {}),
      ...(s.pattern !== undefined && kind !== 'secret' ? { pattern: s.pattern } : {}),
    };
  });
}
