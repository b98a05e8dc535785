// The behavioural suite without a store: the baseline every store must match.
import { describeStoreBehaviour } from '../../helpers/store-behaviour'

describeStoreBehaviour('cookie (no store)')
