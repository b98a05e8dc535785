import { env } from 'cloudflare:workers'
import { durableObjectStore } from '../../../src'
import { describeSessionAdmin } from './suite'

describeSessionAdmin('durable-object', () => durableObjectStore(env.SESSION_DO))
