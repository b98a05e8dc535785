import { describe, expect, it } from 'vitest'
import { pathAndQuery, pathOf } from '../../../src/middleware/request-url'

describe('request-url: the parts of a URL that lastPath and returnTo carry', () => {
  const cases: Array<[string, string, string]> = [
    // url, pathOf, pathAndQuery
    ['https://app.example/explore?tab=1#top', '/explore', '/explore?tab=1'],
    ['https://app.example/p#f?x', '/p', '/p'],
    ['https://app.example/p?x#f', '/p', '/p?x'],
    ['https://app.example', '/', '/'],
    ['https://app.example?q=1', '/', '/'],
    ['https://app.example/', '/', '/'],
    ['http://[::1]:8787/a//b?c=//d', '/a//b', '/a//b?c=//d'],
    ['http://127.0.0.1:8787/reset?token=abc', '/reset', '/reset?token=abc'],
  ]
  for (const [url, path, withQuery] of cases) {
    it(url, () => {
      expect(pathOf(url)).toBe(path)
      expect(pathAndQuery(url)).toBe(withQuery)
    })
  }
})
