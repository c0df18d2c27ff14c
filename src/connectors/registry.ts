import type { Connector } from './types.js';
import { netopiaV1 } from './netopia-v1/connector.js';

/** Every processor the hub speaks, by the `provider` name connections use. */
export const CONNECTORS: Readonly<Record<string, Connector<any, any>>> = {
  [netopiaV1.provider]: netopiaV1,
};

export function connectorFor(provider: string): Connector<any, any> | undefined {
  return Object.prototype.hasOwnProperty.call(CONNECTORS, provider) ? CONNECTORS[provider] : undefined;
}
