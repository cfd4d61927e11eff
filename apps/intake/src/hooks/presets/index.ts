import { contentful } from './contentful.js';
import { generic } from './generic.js';
import { ghost } from './ghost.js';
import type { Preset, PresetName } from './preset.js';
import { sanity } from './sanity.js';
import { strapi } from './strapi.js';
import { woocommerce } from './woocommerce.js';

export * from './preset.js';

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  ghost,
  sanity,
  contentful,
  strapi,
  woocommerce,
  generic,
};
