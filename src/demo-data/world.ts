import { Weighted } from './prng.js';

/** Where the demo shop's customers live: zones, locales, names, phone prefixes. */
export interface Country {
  readonly code: string;
  readonly locales: readonly string[];
  /** [zone, standard UTC offset in hours, weight]: the offset places order hours in local time. */
  readonly zones: readonly (readonly [string, number, number])[];
  readonly cities: readonly string[];
  readonly firstNames: readonly string[];
  readonly lastNames: readonly string[];
  readonly phonePrefix: string;
  /** Share of customers with WhatsApp consent, where it is the common channel. */
  readonly whatsapp: number;
}

const EN_FIRST = ['James', 'Mary', 'Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Ethan', 'Sophia', 'Lucas', 'Mia', 'Jack', 'Grace', 'Henry', 'Chloe', 'Leo'];
const EN_LAST = ['Smith', 'Johnson', 'Brown', 'Taylor', 'Wilson', 'Davies', 'Evans', 'Thomas', "O'Brien", 'Walker', 'White', 'Clarke', 'Hall', 'Young'];

export const COUNTRIES: readonly (readonly [Country, number])[] = [
  [
    {
      code: 'US',
      locales: ['en-US', 'es-US'],
      zones: [['America/New_York', -5, 47], ['America/Chicago', -6, 29], ['America/Denver', -7, 7], ['America/Los_Angeles', -8, 17]],
      cities: ['New York', 'Chicago', 'Austin', 'Denver', 'Seattle', 'Los Angeles', 'Boston', 'Atlanta'],
      firstNames: EN_FIRST,
      lastNames: [...EN_LAST, 'Garcia', 'Martinez'],
      phonePrefix: '+1555',
      whatsapp: 0.03,
    },
    34,
  ],
  [
    {
      code: 'GB',
      locales: ['en-GB'],
      zones: [['Europe/London', 0, 1]],
      cities: ['London', 'Manchester', 'Bristol', 'Leeds', 'Edinburgh', 'Cardiff'],
      firstNames: EN_FIRST,
      lastNames: EN_LAST,
      phonePrefix: '+447700',
      whatsapp: 0.1,
    },
    13,
  ],
  [
    {
      code: 'FR',
      locales: ['fr-FR'],
      zones: [['Europe/Paris', 1, 1]],
      cities: ['Paris', 'Lyon', 'Marseille', 'Toulouse', 'Nantes', 'Lille', 'Aix-en-Provence'],
      firstNames: ['Camille', 'Léa', 'Manon', 'Hugo', 'Louis', 'Chloé', 'Jules', 'Inès', 'Théo', 'Zoé', 'Gabriel', 'Élodie'],
      lastNames: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Lefèvre', 'Moreau'],
      phonePrefix: '+33639',
      whatsapp: 0.12,
    },
    12,
  ],
  [
    {
      code: 'DE',
      locales: ['de-DE'],
      zones: [['Europe/Berlin', 1, 1]],
      cities: ['Berlin', 'Hamburg', 'München', 'Köln', 'Frankfurt am Main', 'Leipzig'],
      firstNames: ['Lukas', 'Anna', 'Leon', 'Marie', 'Finn', 'Sophie', 'Jonas', 'Lena', 'Felix', 'Jürgen', 'Hannah'],
      lastNames: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schäfer'],
      phonePrefix: '+491510',
      whatsapp: 0.15,
    },
    11,
  ],
  [
    {
      code: 'BR',
      locales: ['pt-BR'],
      zones: [['America/Sao_Paulo', -3, 85], ['America/Manaus', -4, 15]],
      cities: ['São Paulo', 'Rio de Janeiro', 'Belo Horizonte', 'Curitiba', 'Manaus', 'Porto Alegre'],
      firstNames: ['João', 'Maria', 'Ana', 'Pedro', 'Lucas', 'Juliana', 'Gabriel', 'Fernanda', 'Rafael', 'Beatriz'],
      lastNames: ['Silva', 'Santos', 'Oliveira', 'Souza', 'Lima', 'Pereira', 'Costa', 'Ferreira', 'Almeida'],
      phonePrefix: '+5511900',
      whatsapp: 0.55,
    },
    10,
  ],
  [
    {
      code: 'CA',
      locales: ['en-CA', 'fr-CA'],
      zones: [['America/Toronto', -5, 60], ['America/Vancouver', -8, 25], ['America/Halifax', -4, 15]],
      cities: ['Toronto', 'Montréal', 'Vancouver', 'Ottawa', 'Halifax', 'Calgary'],
      firstNames: [...EN_FIRST, 'Étienne', 'Amélie'],
      lastNames: [...EN_LAST, 'Tremblay', 'Gagnon', 'Roy'],
      phonePrefix: '+1555',
      whatsapp: 0.05,
    },
    8,
  ],
  [
    {
      code: 'AU',
      locales: ['en-AU'],
      zones: [['Australia/Sydney', 10, 70], ['Australia/Perth', 8, 30]],
      cities: ['Sydney', 'Melbourne', 'Brisbane', 'Perth', 'Adelaide'],
      firstNames: EN_FIRST,
      lastNames: EN_LAST,
      phonePrefix: '+61491570',
      whatsapp: 0.08,
    },
    7,
  ],
  [
    {
      code: 'JP',
      locales: ['ja-JP'],
      zones: [['Asia/Tokyo', 9, 1]],
      cities: ['Tokyo', 'Osaka', 'Yokohama', 'Nagoya', 'Sapporo', 'Fukuoka'],
      firstNames: ['Haruto', 'Yui', 'Sota', 'Hina', 'Ren', 'Aoi', 'Yuto', 'Sakura', 'Riku', 'Mei'],
      lastNames: ['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe', 'Ito', 'Yamamoto', 'Nakamura'],
      phonePrefix: '+8190',
      whatsapp: 0.02,
    },
    5,
  ],
];

export const countryPicker = new Weighted(COUNTRIES);

export function zonePicker(country: Country): Weighted<readonly [string, number]> {
  return new Weighted(country.zones.map(([zone, offset, weight]) => [[zone, offset] as const, weight] as const));
}

/** ASCII for e-mail local parts: "Lefèvre" -> "lefevre", "O'Brien" -> "obrien". */
export function asciiSlug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}

export const ACQUISITION = new Weighted([
  ['organic_search', 35],
  ['paid_social', 25],
  ['referral', 10],
  ['email', 8],
  ['marketplace', 12],
  ['direct', 10],
] as const);

/** How busy each month is, January first: a summer dip, Black Friday and Christmas peaks. */
export const MONTH_WEIGHT = [0.8, 0.72, 0.85, 0.9, 0.95, 0.88, 0.82, 0.84, 0.95, 1.0, 1.55, 1.65];
/** How busy each local hour is: evenings and lunch breaks. */
export const HOUR_WEIGHT = new Weighted(
  [1, 0.6, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2, 2.6, 3, 3.2, 3.6, 3.4, 3, 3, 3.2, 3.6, 4.2, 5, 5.6, 5.2, 3.8, 2].map((w, hour) => [hour, w] as const),
);
