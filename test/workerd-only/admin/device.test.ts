import { describe, expect, it } from 'vitest'
import { deviceOf } from '../../../src/admin/device'

const request = (agent: string | undefined, country?: unknown) =>
  new Request('http://localhost/', {
    headers: agent === undefined ? {} : { 'user-agent': agent },
    ...(country === undefined ? {} : { cf: { country } }),
  } as RequestInit)

describe('device summary recorded at sign-in', () => {
  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Edge on Windows',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      'Chrome on Android',
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
      'Safari on iPadOS',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0',
      'Opera on macOS',
    ],
    [
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      'Chrome on ChromeOS',
    ],
    ['curl/8.5.0', undefined],
  ])('%s -> %s', (agent, browser) => {
    expect(deviceOf(request(agent, 'DE'))).toEqual({ ...(browser ? { browser } : {}), country: 'DE' })
  })

  it('keeps only names from its lists and a two-letter country; nothing at all is undefined', () => {
    expect(deviceOf(request(`Firefox/1.0 ${'x'.repeat(10_000)} <img src=x>`, 'de'))).toEqual({ browser: 'Firefox' })
    expect(deviceOf(request(undefined, 'T1'))).toEqual({ country: 'T1' })
    expect(deviceOf(request(undefined, 42))).toBeUndefined()
    expect(deviceOf(request('', 'DEU'))).toBeUndefined()
  })
})
