// The behavioural suite without a store: the baseline every store must match.
import { describeStoreBehaviour } from './behaviour'

describeStoreBehaviour('cookie (no store)')
