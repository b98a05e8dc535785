/**
 * With a store: the records a request's own sign-in or sign-out must end besides the session it
 * read: the one its session cookie names even when that record was refused or could not be read,
 * those an ambiguous Cookie header names, and the one its sign-in wrote, deleted again when the
 * request fails.
 * @module
 */
import type { CookieNames } from '../codec/cookie-jar.js'
import type { Keyring } from '../codec/keyring.js'
import type { SessionRecord } from './record.js'
import { sessionIdsIn } from './session-tokens.js'

/**
 * The records one request's cookies name, kept beside its session state.
 *
 * @example
 * ```ts
 * const ends = new RecordsToEnd(options.names, options.maxBytes, keyring)
 * ends.namedSid = sid // the session cookie opened, whatever becomes of its record
 * const sids = await ends.endable(record, Date.now())
 * ```
 */
export class RecordsToEnd {
  /**
   * The id the session cookie named once it opened (it is genuine), kept when the record was then
   * refused or could not be read: a sign-in or sign-out in this request still ends it, so a copy
   * of the cookie elsewhere does not outlive them.
   */
  namedSid: string | undefined
  /** The Cookie header as it came, when our cookies in it were ambiguous: they may still name records to end. */
  ambiguousCookies: string | undefined
  /** The current record was written by this request's sign-in (deleted again if the request fails). */
  createdHere = false

  constructor(
    private readonly names: CookieNames,
    private readonly maxBytes: number,
    private readonly keyring: Keyring,
  ) {}

  /** The session these cookies named was replaced or ended: none of its records is left to end. */
  clear(): void {
    this.namedSid = undefined
    this.ambiguousCookies = undefined
  }

  /** The id of the record the session cookie names: the current `record`'s, or the one named but not read. */
  storedSid(record: SessionRecord | null): string | undefined {
    return record ? record.internal.sid : this.namedSid
  }

  /**
   * The records a sign-in or sign-out ends: the one the session cookie names, accepted or not, or
   * those an ambiguous Cookie header names.
   */
  async endable(record: SessionRecord | null, now: number): Promise<string[]> {
    const own = this.storedSid(record)
    const header = this.ambiguousCookies
    if (own !== undefined || header === undefined) return own === undefined ? [] : [own]
    return sessionIdsIn(header, this.names, this.maxBytes, this.keyring, now)
  }
}
