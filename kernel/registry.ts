import type { KernelModule, KernelModuleFactory } from './contract.js';

/**
 * Named kernel module factories, like grpc-js's `registerLoadBalancerType`: the in-tree modules
 * register themselves, and an operator build can register more before the loop starts.
 */
export class ModuleRegistry {
  private readonly factories = new Map<string, KernelModuleFactory<never>>();

  register<Options>(name: string, factory: KernelModuleFactory<Options>): void {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`kernel module name "${name}" must be lower-case letters, digits and -`);
    if (this.factories.has(name)) throw new Error(`kernel module "${name}" is already registered`);
    this.factories.set(name, factory);
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  names(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** Instantiates a registered module; the instance must carry the registered name. */
  create<Options>(name: string, options: Options): KernelModule {
    const factory = this.factories.get(name) as KernelModuleFactory<Options> | undefined;
    if (!factory) throw new Error(`unknown kernel module "${name}" (registered: ${this.names().join(', ') || 'none'})`);
    const module = factory(options);
    if (module.name !== name) throw new Error(`kernel module factory "${name}" returned a module named "${module.name}"`);
    return module;
  }
}

/** The process-wide registry the operator's modules register into. */
export const kernelModules = new ModuleRegistry();
