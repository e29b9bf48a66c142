// Kubernetes resource quantities (core/v1 resource.Quantity) as plain numbers: CPU in
// millicores, everything else in base units (bytes, counts).

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const PATTERN = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

/** The value of a quantity in base units (`100m` -> 0.1, `1Gi` -> 1073741824); throws naming the field when malformed. */
export function parseQuantity(value: string | number, field = 'quantity'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${field}: ${value} is not a finite quantity`);
    return value;
  }
  const match = PATTERN.exec(value.trim());
  if (!match) throw new Error(`${field}: "${value}" is not a Kubernetes quantity (such as 500m, 2, 128Mi, 1G)`);
  const number = Number(match[1]);
  if (match[2] !== undefined) return number * 10 ** Number(match[2].slice(1));
  const suffix = match[3] ?? '';
  return number * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** CPU in millicores, rounded up as the API server does. */
export const cpuMillis = (value: string | number, field = 'cpu'): number => Math.ceil(parseQuantity(value, field) * 1000 - 1e-9);
