/**
 * The Quantity corpus of the differential suite: each value parsed, formatted, converted to Value/MilliValue and, when
 * a second value is given, compared with it, added and subtracted. What they should give is whatever apimachinery
 * v0.37.2's resource.Quantity says.
 */

export interface QuantityCase {
  id: string;
  value: string;
  other?: string;
}

const values = [
  '0', '1', '100', '1000', '1k', '1K', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei', '1M', '1G', '1T', '1P', '1E',
  '100m', '1500m', '0.5', '.5', '5.', '0.1', '0.001', '0.0001', '1n', '1u', '1m', '1500n', '2.5Gi', '1.5', '1.5Ki',
  '1.25', '123456789', '1e3', '1E3', '1e-3', '1e+3', '2e6', '1.5e3', '-1', '-100m', '-1Gi', '+1', '+1Ki', '0.000000001',
  '0.0000000001', '1000000m', '1024Mi', '2048Ki', '1000k', '1000M', '12e6', '9223372036854775807', '9223372036854775808',
  '9223372036854775807k', '8Ei', '9Ei', '-9223372036854775808', '1000000000000000000000', '1.000', '010', '0.50',
  '1Gi ', ' 1Gi', '1 Gi', '1gi', '1KI', '1b', 'Gi', '', '.', '-', '1.2.3', '1e', 'e3', '1e3Ki', '1Ki1', '1mi', '0x10',
  '1,5', 'one', '∞', '1_000', '100Mi', '250m', '4', '3.14159', '123.456789m', '1.1n',
];

const pairs: [string, string][] = [
  ['1', '1'], ['1', '2'], ['2', '1'], ['1Gi', '1024Mi'], ['1G', '1Gi'], ['1k', '1000'], ['1Ki', '1000'],
  ['100m', '0.1'], ['1', '1000m'], ['500m', '1'], ['1.5', '1500m'], ['1Gi', '512Mi'], ['512Mi', '1Gi'], ['1', '-1'],
  ['-1', '1'], ['0', '0'], ['0', '1n'], ['1n', '1u'], ['1Ei', '1Ei'], ['8Ei', '1'], ['9223372036854775807', '1'],
  ['1e3', '1k'], ['2.5Gi', '500Mi'], ['100Mi', '1G'], ['1m', '1n'], ['250m', '250m'], ['1Ki', '1k'], ['3', '100m'],
  ['1.1n', '1n'], ['1', 'bad'], ['1T', '1Ti'], ['4', '0.5'], ['1e-3', '1m'], ['123456789', '987654321'],
];

/** Every Quantity case: `qty-NNN` for single values, `qty-pair-NNN` for pairs. */
export const quantityCases: QuantityCase[] = [
  ...values.map((value, i) => ({ id: `qty-${String(i + 1).padStart(3, '0')}`, value })),
  ...pairs.map(([value, other], i) => ({ id: `qty-pair-${String(i + 1).padStart(3, '0')}`, value, other })),
];
