import { describe, expect, it } from 'vitest';
import { OutgoingBuilder } from '../../src/delivery/outgoing.js';
import type { Config } from '../../src/project/model.js';
import type { MessageColumns } from '../../src/store/outbox.js';

const config = {
  templates: {
    thanks: { channel: 'email', providerTemplate: 'd-0001thankyou', subject: 'Thank you, {{first_name}}', body: null },
    reminder: { channel: 'sms', providerTemplate: null, subject: null, body: '{{first_name}}, your code {{coupon}} ends soon' },
  },
} as unknown as Config;

const row = (over: Partial<MessageColumns> = {}): MessageColumns => ({
  id: 1,
  idempotency_key: 'post-purchase:1:thanks',
  journey_id: 'post-purchase',
  step_id: 'thanks',
  channel: 'email',
  template: 'thanks',
  address: 'jana@example.test',
  payload: '{"first_name":"Jana","order_total":1290.5}',
  content: null,
  ...over,
});

describe('OutgoingBuilder', () => {
  it("makes a row's message: recipient, key, the template's parts, the payload as data and as its own text, journey and step as tags", () => {
    const message = new OutgoingBuilder(config).build(row());
    expect(message).toEqual({
      idempotencyKey: 'post-purchase:1:thanks',
      channel: 'email',
      to: 'jana@example.test',
      template: { id: 'd-0001thankyou', subject: 'Thank you, {{first_name}}', body: null },
      data: { first_name: 'Jana', order_total: 1290.5 },
      dataJson: '{"first_name":"Jana","order_total":1290.5}',
      content: null,
      tags: { journey: 'post-purchase', step: 'thanks' },
    });
  });

  it("gives the messages of one step the same frozen tags and template, and other steps their own", () => {
    const builder = new OutgoingBuilder(config);
    const a = builder.message(row({ id: 1 }));
    const b = builder.message(row({ id: 2, idempotency_key: 'post-purchase:2:thanks' }));
    const c = builder.message(row({ id: 3, step_id: 'remind', template: 'reminder', channel: 'sms' }));
    if (typeof a === 'string' || typeof b === 'string' || typeof c === 'string') throw new Error('expected messages');
    expect(b.tags).toBe(a.tags);
    expect(b.template).toBe(a.template);
    expect(Object.isFrozen(a.tags)).toBe(true);
    expect(Object.isFrozen(a.template)).toBe(true);
    expect(c.tags).toEqual({ journey: 'post-purchase', step: 'remind' });
    expect(c.template).toEqual({ id: null, subject: null, body: '{{first_name}}, your code {{coupon}} ends soon' });
    // a row without journey or step (journey send --test) has no such tags
    const bare = builder.message(row({ journey_id: null, step_id: null }));
    expect(typeof bare !== 'string' && bare.tags).toEqual({});
  });

  it('says why a row cannot be sent', () => {
    const builder = new OutgoingBuilder(config);
    expect(builder.build(row({ template: 'gone' }))).toBe("template 'gone' is not in journey.config.yaml");
    expect(builder.build(row({ payload: '{"first_name":' }))).toBe('the payload is not valid JSON');
    expect(builder.build(row({ payload: '[1, 2]' }))).toBe('the payload is not a JSON object');
  });

  it('makes a sync request of a sync row', () => {
    const request = new OutgoingBuilder(config).build(
      row({ channel: 'sync', template: '', payload: JSON.stringify({ customer_id: 'c1', email: 'jana@example.test', phone: '', profile: { vip: true }, event: 'Became VIP', properties: { orders: 3 } }) }),
    );
    expect(request).toEqual({
      idempotencyKey: 'post-purchase:1:thanks',
      customer: { id: 'c1', email: 'jana@example.test', phone: null },
      profile: { vip: true },
      event: { name: 'Became VIP', properties: { orders: 3 } },
    });
  });
});
