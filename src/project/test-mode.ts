import type { Config, Journey, TestMode } from './model.js';

/** A journey's test mode: its own test_recipients, else the project's, else null (live). */
export function testModeOf(journey: Journey, config: Config): TestMode | null {
  return journey.testRecipients ?? config.testRecipients;
}

/** Why a test-mode send or sync does not go out (the step log's detail and the tick report's key). */
/** Every reason test mode skips a send or sync starts with this. */
export const TEST_SKIP_PREFIX = 'test_mode:';

export const TEST_SKIP = {
  noRecipient: (channel: string) => `test_mode:no_recipient:${channel}`,
  noSyncTarget: (provider: string) => `test_mode:no_sync_target:${provider}`,
  sampleReached: 'test_mode:sample_reached',
  /** An update step in test mode: the customer's attributes stay as they are. */
  updateNotApplied: 'test_mode:update_not_applied',
  /** A test enrolment reaching a send after its journey left test mode: it never goes to the customer. */
  off: 'test_mode:off',
} as const;
