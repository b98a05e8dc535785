/**
 * Everything the suites share, in one place: secrets, cookie jars and apps wired like a user's
 * (app, core, middleware), the fake clock (clock), attacker tools (security), store fixtures and
 * the behaviour every store must show (stores, store-behaviour). Runtime-neutral: only Web
 * standards and `app.request`.
 */
export * from './app'
export * from './clock'
export * from './core'
export * from './middleware'
export * from './security'
export * from './store-behaviour'
export * from './stores'
