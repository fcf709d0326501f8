/**
 * A coupon code is one code in any case: Shopify's discount codes are, and redemptions
 * are matched so (coupons.ts, matchRedemptions). Until now `POOL1` and `pool1` were two
 * codes of the store, so two customers could be handed what the shop takes for one.
 *
 * A code that another code of the store already has in some case is not written
 * (RAISE(IGNORE), as ON CONFLICT DO NOTHING skips an exact repeat): an import counts
 * it as one the store had, the issuing of generated codes draws again. A trigger, not
 * a unique index, so that a store that already holds two spellings of a code migrates
 * (both stay, as they may be issued); the index makes the check one lookup.
 */
export const version = 21;
export const name = 'coupon codes unique in any case';
export const sql = `
CREATE INDEX coupon_codes_by_code_nocase ON coupon_codes (code COLLATE NOCASE);
CREATE TRIGGER coupon_codes_one_spelling BEFORE INSERT ON coupon_codes
  WHEN EXISTS (SELECT 1 FROM coupon_codes WHERE code = NEW.code COLLATE NOCASE)
BEGIN
  SELECT RAISE(IGNORE);
END;
`;
