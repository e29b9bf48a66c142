// The trust module's public surface; importing it registers the `trust` kernel module.
import { kernelModules } from '../registry.js';
import { NAME, createTrustModule, type TrustModuleOptions } from './module.js';

if (!kernelModules.has(NAME)) kernelModules.register<TrustModuleOptions>(NAME, createTrustModule);

export { NAME, RECOMPUTE_TRUST, createTrustModule, type TrustModuleOptions } from './module.js';
export * from './recompute.js';
export * from './score.js';
export * from './transition.js';
