/**
 * The statistics of `npm run bench:ab` (bench/ab.mjs): quantiles, a distribution-free confidence
 * interval of the median, and the summary of per-round paired differences (head minus base).
 * @module
 */
import { median } from './workerd.mjs'

/**
 * The p-quantile (0..1) of sorted values, linear between order statistics.
 * @param {readonly number[]} sorted ascending, at least one value
 * @param {number} p
 * @returns {number}
 * @example quantile([1, 2, 3, 4], 0.25) // 1.75
 */
export function quantile(sorted, p) {
  const at = (sorted.length - 1) * p
  const lo = Math.floor(at)
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (at - lo)
}

/**
 * A distribution-free 95% confidence interval of the median: order statistics x(k) and
 * x(n+1-k), k the largest with P(Binomial(n, 1/2) < k) <= 2.5%. Undefined under 6 values.
 * @param {readonly number[]} sorted ascending
 * @returns {[number, number] | undefined}
 * @example medianCI([1, 2, 3, 4, 5, 6]) // [1, 6]
 */
export function medianCI(sorted) {
  const n = sorted.length
  let logPmf = -n * Math.LN2 // log P(X = 0)
  let below = 0 // P(X < k)
  let k = 0
  while (k < n) {
    const next = below + Math.exp(logPmf)
    if (next > 0.025) break
    below = next
    k++
    logPmf += Math.log((n - k + 1) / k)
  }
  return k === 0 ? undefined : [sorted[k - 1], sorted[n - k]]
}

/**
 * Median, interquartile range, 95% CI of the median and count of negative values (head faster)
 * of the per-round differences, in any order.
 * @param {readonly number[]} diffs
 * @returns {{ median: number, iqr: [number, number], ci: [number, number] | undefined, headFaster: number }}
 * @example pairedSummary([-2, -1, 0, 1, -3, -1]).median // -1
 */
export function pairedSummary(diffs) {
  const sorted = [...diffs].sort((a, b) => a - b)
  return {
    median: median(sorted),
    iqr: [quantile(sorted, 0.25), quantile(sorted, 0.75)],
    ci: medianCI(sorted),
    headFaster: diffs.filter((d) => d < 0).length,
  }
}
