import type { Delivery, HookKey, Verdict, VerifyContext } from '../delivery.js';

export const PRESET_NAMES = ['ghost', 'sanity', 'contentful', 'strapi', 'woocommerce', 'generic'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** What one CMS does differently: how it signs, where it names the event and the delivery. */
export interface Preset {
  name: PresetName;
  /** Templates used when a hook lists no `paths`; absent where the CMS sends no URLs of its own. */
  defaultPaths?: readonly string[];
  /** True for the presets whose deliveries carry a signed timestamp (replays are refused by age). */
  signsTime: boolean;
  verify(delivery: Delivery, key: HookKey, context: VerifyContext): Verdict;
  /** The event the CMS names for this delivery, if it names one. */
  event(delivery: Delivery, body: unknown): string | undefined;
  /** The CMS's id of this delivery, the same on its retries, if it sends one. */
  deliveryId(delivery: Delivery): string | undefined;
  /** The bodies the templates are evaluated over (Ghost adds the version before the change). */
  views?(body: unknown): unknown[];
  /** A request that only checks the URL answers (WooCommerce's ping when a webhook is saved). */
  isPing?(delivery: Delivery): boolean;
}
