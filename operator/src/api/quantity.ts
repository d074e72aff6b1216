const suffixes: Record<string, number> = {
  "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes resource quantity as a number, or undefined when the text is not one. */
export function parseQuantity(text: string): number | undefined {
  const match = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(text.trim());
  if (!match?.[1]) return undefined;
  const base = Number(match[1]);
  if (match[2]) return base * 10 ** Number(match[2].slice(1));
  const factor = suffixes[match[3] ?? ""];
  return factor === undefined ? undefined : base * factor;
}

/** A spec's resource quantity (a string or a bare number) when it is one and above zero, else undefined. */
export function positiveQuantity(value: string | number | undefined): number | undefined {
  const parsed = value === undefined ? undefined : parseQuantity(String(value));
  return parsed !== undefined && parsed > 0 ? parsed : undefined;
}
