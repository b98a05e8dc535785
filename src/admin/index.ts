/**
 * Managing a user's sessions outside their request (`sessionAdmin`), and their own devices from
 * inside it (`listSessions`, `destroyOtherSessions`).
 * @module
 */
export { sessionAdmin } from './session-admin.js'
export { listSessions, destroyOtherSessions } from './current-user.js'
export type {
  CurrentUserSession,
  ListedSession,
  SessionAdmin,
  SessionAdminOptions,
  SessionAdminUpdate,
} from './types.js'
