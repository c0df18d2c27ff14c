/**
 * JSON as Volt sends it in notifications: compact, with every character outside ASCII written as a \u
 * escape (docs.volt.io: "we'll send data with accented characters escaped like this
 * \"groupName\":\"Soci\u00e9t\u00e9 G\u00e9n\u00e9rale\"").
 */
export function voltJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
