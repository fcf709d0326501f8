import * as coreTables from './001-core-tables.js';
import * as segmentIndexes from './002-segment-indexes.js';
import * as customerAliases from './003-customer-aliases.js';
import * as journeyState from './004-journey-state.js';
import * as customerFacts from './005-customer-facts.js';
import * as outbox from './006-outbox.js';
import * as delivery from './007-delivery.js';
import * as engine from './008-engine.js';
import * as outboxLeases from './009-outbox-leases.js';
import * as outboxDelivery from './010-outbox-delivery.js';
import * as segmentVersions from './011-segment-versions.js';
import * as testMode from './012-test-mode.js';
import * as orderItemStatus from './013-order-item-status.js';
import * as deliveryInDoubt from './014-delivery-in-doubt.js';
import * as messageContent from './015-message-content.js';
import * as importRefundsEstimates from './016-import-refunds-estimates.js';
import * as erasure from './017-erasure.js';
import * as itemStatusHistory from './018-item-status-history.js';
import * as productPairs from './019-product-pairs.js';
import * as productLookup from './020-product-lookup.js';
import * as couponCodeCase from './021-coupon-code-case.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** In order; a migration, once released, is never edited: add the next one. */
export const MIGRATIONS: readonly Migration[] = [coreTables, segmentIndexes, customerAliases, journeyState, customerFacts, outbox, delivery, engine, outboxLeases, outboxDelivery, segmentVersions, testMode, orderItemStatus, deliveryInDoubt, messageContent, importRefundsEstimates, erasure, itemStatusHistory, productPairs, productLookup, couponCodeCase];
