import type { CaseFactory } from './harness'
/** Step-by-step cost of jose's compact JWE (dir + A256GCM), for bench/NOTES.md. */
export declare const profileCases: Record<string, CaseFactory>
