// The behavioural suite without a store: the baseline every store must match.
import { describeStoreBehaviour } from '../../helpers'

describeStoreBehaviour('cookie (no store)')
