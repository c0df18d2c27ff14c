import type { Connector } from './types.js';
import { netopiaV1 } from './netopia-v1/connector.js';
import { netopiaV2 } from './netopia-v2/connector.js';
import { multisafepay } from './multisafepay/connector.js';
import { nexi } from './nexi/connector.js';
import { volt } from './volt/connector.js';

/** Every processor the hub speaks, by the `provider` name connections use. */
export const CONNECTORS: Readonly<Record<string, Connector<any, any>>> = {
  [netopiaV1.provider]: netopiaV1,
  [netopiaV2.provider]: netopiaV2,
  [multisafepay.provider]: multisafepay,
  [nexi.provider]: nexi,
  [volt.provider]: volt,
};

export function connectorFor(provider: string): Connector<any, any> | undefined {
  return Object.prototype.hasOwnProperty.call(CONNECTORS, provider) ? CONNECTORS[provider] : undefined;
}
