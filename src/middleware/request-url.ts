/**
 * The part of a request URL that `lastPath` and `returnTo` carry, cut from the string without
 * parsing a URL (it runs on page views, the hot path).
 * @module
 */

/**
 * Path and query of an absolute URL, without the fragment; `'/'` when it has no path.
 *
 * @example
 * ```ts
 * pathAndQuery('https://app.example/explore?tab=1#top') // '/explore?tab=1'
 * ```
 */
export function pathAndQuery(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const hash = url.indexOf('#', start)
  return hash === -1 ? url.slice(start) : url.slice(start, hash)
}

/**
 * Path of an absolute URL, without query and fragment; `'/'` when it has no path.
 *
 * @example
 * ```ts
 * pathOf('https://app.example/reset?token=abc#top') // '/reset'
 * ```
 */
export function pathOf(url: string): string {
  // The fragment is gone first, so a '?' inside it ('#f?x') is never taken for the query.
  const path = pathAndQuery(url)
  const query = path.indexOf('?')
  return query === -1 ? path : path.slice(0, query)
}
