/**
 * First-level subdivisions used to resolve the state part of a location. `stateCode` is the code people
 * write (USPS for the US, Canada Post for Canada, ISO 3166-2 suffix elsewhere); `name` is the English
 * canonical name. Only countries with `bareCodes` have their codes recognised without a country
 * ("Austin, TX"); the others collide too often with country codes and words.
 */
export interface SubdivisionEntry {
  readonly code: string;
  readonly name: string;
  readonly aliases?: readonly string[];
}

export interface SubdivisionSet {
  readonly countryCode: string;
  readonly bareCodes: boolean;
  readonly entries: readonly SubdivisionEntry[];
}

const US: SubdivisionSet = {
  countryCode: 'US',
  bareCodes: true,
  entries: [
    { code: 'AL', name: 'Alabama' },
    { code: 'AK', name: 'Alaska' },
    { code: 'AZ', name: 'Arizona' },
    { code: 'AR', name: 'Arkansas' },
    { code: 'CA', name: 'California' },
    { code: 'CO', name: 'Colorado' },
    { code: 'CT', name: 'Connecticut' },
    { code: 'DE', name: 'Delaware' },
    { code: 'DC', name: 'District of Columbia', aliases: ['Washington DC', 'Washington D.C.', 'D.C.'] },
    { code: 'FL', name: 'Florida' },
    { code: 'GA', name: 'Georgia' },
    { code: 'HI', name: 'Hawaii' },
    { code: 'ID', name: 'Idaho' },
    { code: 'IL', name: 'Illinois' },
    { code: 'IN', name: 'Indiana' },
    { code: 'IA', name: 'Iowa' },
    { code: 'KS', name: 'Kansas' },
    { code: 'KY', name: 'Kentucky' },
    { code: 'LA', name: 'Louisiana' },
    { code: 'ME', name: 'Maine' },
    { code: 'MD', name: 'Maryland' },
    { code: 'MA', name: 'Massachusetts' },
    { code: 'MI', name: 'Michigan' },
    { code: 'MN', name: 'Minnesota' },
    { code: 'MS', name: 'Mississippi' },
    { code: 'MO', name: 'Missouri' },
    { code: 'MT', name: 'Montana' },
    { code: 'NE', name: 'Nebraska' },
    { code: 'NV', name: 'Nevada' },
    { code: 'NH', name: 'New Hampshire' },
    { code: 'NJ', name: 'New Jersey' },
    { code: 'NM', name: 'New Mexico' },
    { code: 'NY', name: 'New York' },
    { code: 'NC', name: 'North Carolina' },
    { code: 'ND', name: 'North Dakota' },
    { code: 'OH', name: 'Ohio' },
    { code: 'OK', name: 'Oklahoma' },
    { code: 'OR', name: 'Oregon' },
    { code: 'PA', name: 'Pennsylvania' },
    { code: 'RI', name: 'Rhode Island' },
    { code: 'SC', name: 'South Carolina' },
    { code: 'SD', name: 'South Dakota' },
    { code: 'TN', name: 'Tennessee' },
    { code: 'TX', name: 'Texas' },
    { code: 'UT', name: 'Utah' },
    { code: 'VT', name: 'Vermont' },
    { code: 'VA', name: 'Virginia' },
    { code: 'WA', name: 'Washington' },
    { code: 'WV', name: 'West Virginia' },
    { code: 'WI', name: 'Wisconsin' },
    { code: 'WY', name: 'Wyoming' },
  ],
};

const CANADA: SubdivisionSet = {
  countryCode: 'CA',
  bareCodes: true,
  entries: [
    { code: 'AB', name: 'Alberta' },
    { code: 'BC', name: 'British Columbia', aliases: ['Colombie-Britannique'] },
    { code: 'MB', name: 'Manitoba' },
    { code: 'NB', name: 'New Brunswick', aliases: ['Nouveau-Brunswick'] },
    { code: 'NL', name: 'Newfoundland and Labrador', aliases: ['Newfoundland', 'Terre-Neuve-et-Labrador'] },
    { code: 'NS', name: 'Nova Scotia', aliases: ['Nouvelle-Écosse'] },
    { code: 'NT', name: 'Northwest Territories', aliases: ['Territoires du Nord-Ouest'] },
    { code: 'NU', name: 'Nunavut' },
    { code: 'ON', name: 'Ontario' },
    { code: 'PE', name: 'Prince Edward Island', aliases: ['Île-du-Prince-Édouard'] },
    { code: 'QC', name: 'Quebec', aliases: ['Québec'] },
    { code: 'SK', name: 'Saskatchewan' },
    { code: 'YT', name: 'Yukon', aliases: ['Yukon Territory'] },
  ],
};

const AUSTRALIA: SubdivisionSet = {
  countryCode: 'AU',
  bareCodes: true,
  entries: [
    { code: 'NSW', name: 'New South Wales' },
    { code: 'VIC', name: 'Victoria' },
    { code: 'QLD', name: 'Queensland' },
    { code: 'WA', name: 'Western Australia' },
    { code: 'SA', name: 'South Australia' },
    { code: 'TAS', name: 'Tasmania' },
    { code: 'ACT', name: 'Australian Capital Territory' },
    { code: 'NT', name: 'Northern Territory' },
  ],
};

const BRAZIL: SubdivisionSet = {
  countryCode: 'BR',
  bareCodes: true,
  entries: [
    { code: 'AC', name: 'Acre' },
    { code: 'AL', name: 'Alagoas' },
    { code: 'AP', name: 'Amapá' },
    { code: 'AM', name: 'Amazonas' },
    { code: 'BA', name: 'Bahia' },
    { code: 'CE', name: 'Ceará' },
    { code: 'DF', name: 'Distrito Federal', aliases: ['Federal District'] },
    { code: 'ES', name: 'Espírito Santo' },
    { code: 'GO', name: 'Goiás' },
    { code: 'MA', name: 'Maranhão' },
    { code: 'MT', name: 'Mato Grosso' },
    { code: 'MS', name: 'Mato Grosso do Sul' },
    { code: 'MG', name: 'Minas Gerais' },
    { code: 'PA', name: 'Pará' },
    { code: 'PB', name: 'Paraíba' },
    { code: 'PR', name: 'Paraná' },
    { code: 'PE', name: 'Pernambuco' },
    { code: 'PI', name: 'Piauí' },
    { code: 'RJ', name: 'Rio de Janeiro' },
    { code: 'RN', name: 'Rio Grande do Norte' },
    { code: 'RS', name: 'Rio Grande do Sul' },
    { code: 'RO', name: 'Rondônia' },
    { code: 'RR', name: 'Roraima' },
    { code: 'SC', name: 'Santa Catarina' },
    { code: 'SP', name: 'São Paulo' },
    { code: 'SE', name: 'Sergipe' },
    { code: 'TO', name: 'Tocantins' },
  ],
};

const UNITED_KINGDOM: SubdivisionSet = {
  countryCode: 'GB',
  bareCodes: false,
  entries: [
    { code: 'ENG', name: 'England' },
    { code: 'SCT', name: 'Scotland' },
    { code: 'WLS', name: 'Wales', aliases: ['Cymru'] },
    { code: 'NIR', name: 'Northern Ireland' },
  ],
};

const GERMANY: SubdivisionSet = {
  countryCode: 'DE',
  bareCodes: false,
  entries: [
    { code: 'BW', name: 'Baden-Württemberg' },
    { code: 'BY', name: 'Bavaria', aliases: ['Bayern'] },
    { code: 'BE', name: 'Berlin' },
    { code: 'BB', name: 'Brandenburg' },
    { code: 'HB', name: 'Bremen' },
    { code: 'HH', name: 'Hamburg' },
    { code: 'HE', name: 'Hesse', aliases: ['Hessen'] },
    { code: 'MV', name: 'Mecklenburg-Western Pomerania', aliases: ['Mecklenburg-Vorpommern'] },
    { code: 'NI', name: 'Lower Saxony', aliases: ['Niedersachsen'] },
    { code: 'NW', name: 'North Rhine-Westphalia', aliases: ['Nordrhein-Westfalen', 'NRW'] },
    { code: 'RP', name: 'Rhineland-Palatinate', aliases: ['Rheinland-Pfalz'] },
    { code: 'SL', name: 'Saarland' },
    { code: 'SN', name: 'Saxony', aliases: ['Sachsen'] },
    { code: 'ST', name: 'Saxony-Anhalt', aliases: ['Sachsen-Anhalt'] },
    { code: 'SH', name: 'Schleswig-Holstein' },
    { code: 'TH', name: 'Thuringia', aliases: ['Thüringen'] },
  ],
};

/** In priority order: a bare code or name that several countries share resolves to the first set. */
export const SUBDIVISION_SETS: readonly SubdivisionSet[] = [
  US,
  CANADA,
  AUSTRALIA,
  UNITED_KINGDOM,
  GERMANY,
  BRAZIL,
];
