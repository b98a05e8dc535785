/**
 * Type-level checks, run by `tsc -p tsconfig.json` (nothing executes): every error's `code` is its
 * literal, so `switch (err.code)` narrows, and a switch over SessionErrorCode can be exhaustive.
 */
import {
  type SessionCommittedError,
  SessionConfigError,
  SessionError,
  type SessionErrorCode,
  type SessionInvalidError,
  type SessionMissingError,
  type SessionNotMountedError,
  SessionStoreError,
  type SessionTooLargeError,
  type SessionUnsupportedError,
} from '../../src'

type KnownError =
  | SessionConfigError
  | SessionNotMountedError
  | SessionMissingError
  | SessionInvalidError
  | SessionTooLargeError
  | SessionCommittedError
  | SessionStoreError
  | SessionUnsupportedError

/** The code narrows the error: each case reads members only its class has. */
export function describe(err: KnownError): string {
  switch (err.code) {
    case 'ERR_SESSION_STORE':
      return `written: ${String(err.written)}`
    case 'ERR_SESSION_TOO_LARGE':
      return `${err.bytes} of ${err.limit}`
    case 'ERR_SESSION_INVALID':
      return err.issues.map((issue) => issue.message).join('; ')
    case 'ERR_SESSION_CONFIG':
    case 'ERR_SESSION_NOT_MOUNTED':
    case 'ERR_SESSION_MISSING':
    case 'ERR_SESSION_COMMITTED':
    case 'ERR_SESSION_UNSUPPORTED':
      return err.message
    default: {
      const unreachable: never = err
      return unreachable
    }
  }
}

/** A switch over every code is exhaustive: a new code without a case fails here. */
export function exhaustive(code: SessionErrorCode): number {
  switch (code) {
    case 'ERR_SESSION':
    case 'ERR_SESSION_CONFIG':
    case 'ERR_SESSION_NOT_MOUNTED':
    case 'ERR_SESSION_MISSING':
    case 'ERR_SESSION_INVALID':
    case 'ERR_SESSION_TOO_LARGE':
    case 'ERR_SESSION_COMMITTED':
    case 'ERR_SESSION_STORE':
    case 'ERR_SESSION_UNSUPPORTED':
      return 1
    default: {
      const unreachable: never = code
      return unreachable
    }
  }
}

export function literals(err: unknown): void {
  // Each class's code, on the instance and on the class, is its literal.
  const store: 'ERR_SESSION_STORE' = new SessionStoreError('x').code
  const config: 'ERR_SESSION_CONFIG' = SessionConfigError.code
  if (err instanceof SessionError) {
    const code: SessionErrorCode = err.code
    // @ts-expect-error the base class's code is the union, not any string
    const wrong: 'ERR_SESSION_STORE' = err.code
    void code
    void wrong
  }
  // @ts-expect-error not a code of this package
  const unknownCode: SessionErrorCode = 'ERR_OTHER'
  void store
  void config
  void unknownCode
}
