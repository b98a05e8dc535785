import { memoryStore } from '../../../src'
import { describeSessionAdmin } from './suite'

// One store for the file, as an app has: the sub of each test keeps tests apart.
const store = memoryStore()
describeSessionAdmin('memory', () => store)
