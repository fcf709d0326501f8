/**
 * Countries as ISO 3166-1 alpha-2 codes, the form segment rules compare with
 * (`country: { in: [US] }`). Exports write codes (Shopify's "Country Code") or names
 * (older Shopify exports, shops' own): a name is looked up among the region names
 * ICU knows in a few languages, so that `United States`, `Brasil` and `Deutschland`
 * all land on their code. The table is built once, on first use, from Intl.
 */

/** Region codes that are not countries now (macro-regions, ICU's pseudo-locales, withdrawn codes such as East Germany's). */
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'ZZ', 'QO', 'XA', 'XB', 'UK', 'DD', 'YU', 'CS', 'SU', 'ZR', 'TP', 'BU', 'NT', 'FX', 'AN', 'QU']);
/** Languages whose country names are recognised. */
const NAME_LANGUAGES = ['en', 'pt', 'es', 'fr', 'de', 'it', 'nl'];
/** Names and codes exports use that ICU does not list. */
const ALIASES: Readonly<Record<string, string>> = {
  uk: 'GB',
  'great britain': 'GB',
  britain: 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  usa: 'US',
  'united states of america': 'US',
  america: 'US',
  'south korea': 'KR',
  'republic of korea': 'KR',
  'north korea': 'KP',
  russia: 'RU',
  'russian federation': 'RU',
  'czech republic': 'CZ',
  holland: 'NL',
  'the netherlands': 'NL',
  'ivory coast': 'CI',
  'viet nam': 'VN',
  turkey: 'TR',
  'hong kong': 'HK',
  macau: 'MO',
  uae: 'AE',
};

let byName: Map<string, string> | undefined;
let codes: Set<string> | undefined;

/** Lower case, accents and punctuation dropped, spaces collapsed: "Côte d’Ivoire" -> "cote d ivoire". */
function nameKey(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function build(): void {
  byName = new Map();
  codes = new Set();
  const names = NAME_LANGUAGES.map((lang) => new Intl.DisplayNames([lang], { type: 'region', fallback: 'none' }));
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      const english = names[0]!.of(code);
      if (english && english !== code && !NOT_COUNTRIES.has(code)) codes.add(code);
    }
  }
  // a language's names all before the next language's: English names win a clash
  for (const display of names) {
    for (const code of codes) {
      const name = display.of(code);
      if (name && !byName.has(nameKey(name))) byName.set(nameKey(name), code);
    }
  }
  for (const [name, code] of Object.entries(ALIASES)) byName.set(nameKey(name), code);
}

/** The alpha-2 code of a code or name, or undefined when it names no country. */
export function countryCode(text: string): string | undefined {
  if (!byName) build();
  const trimmed = text.trim();
  if (/^[A-Za-z]{2}$/.test(trimmed)) {
    const code = trimmed.toUpperCase();
    if (code === 'UK') return 'GB';
    return codes!.has(code) ? code : undefined;
  }
  const key = nameKey(trimmed);
  return byName!.get(key) ?? byName!.get(key.replace(/^the /, ''));
}
