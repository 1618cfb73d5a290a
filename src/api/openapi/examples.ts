/**
 * Real-shaped Dux-Soup webhook bodies, copied from the public sample set (shared/fixtures/
 * duxsoup-samples-public.json: fixtures 5, 51 and 8; the conformance test checks they still match). The people in
 * them are fictitious.
 */
export const VISIT_EXAMPLE = {
  userid: '104729385610293847561',
  time: '2025-07-03T02:24:29.854Z',
  type: 'visit',
  event: 'create',
  data: {
    id: 'id.8315271696',
    VisitTime: 1751509468915,
    Profile: 'https://www.linkedin.com/in/alex-moreno-hmlkgf4z/',
    SalesProfile: 'https://www.linkedin.com/sales/people/ACoAAFpjSM0WuV_8N6yF-bJ9IKffW92TKwMlaTk,name,DH_y',
    RecruiterProfile: 'https://www.linkedin.com/talent/profile/ACoAAFpjSM0WuV_8N6yF-bJ9IKffW92TKwMlaTk',
    Picture: '',
    Degree: '1',
    'First Name': 'Alex',
    'Middle Name': '',
    'Last Name': 'Moreno',
    Connections: '2',
    Summary: '',
    Title: 'Manager, Customer Success',
    From: '',
    Company: 'Juniper Software',
    CompanyProfile: 'https://www.linkedin.com/company/84316519/',
    CompanyWebsite: '',
    PersonalWebsite: '',
    Email: '',
    Phone: '',
    IM: '',
    Twitter: '',
    Location: 'San Mateo, California, United States',
    Industry: 'Software Development',
    'My Tags': [
      'ACME',
      '🦆-default-followup-1',
      '🦆-default-followup-2',
      '🦆-default-followup-3',
      '🦆-default-followup-4',
      '🦆-default-followup-5',
      '🦆-default-followup-6',
      '🦆-default-followup-7',
      '🦆-default-followup-8',
    ],
    extended: {
      positions: [
        {
          Company: 'Juniper Software',
          Location: '',
          Title: 'Manager, Customer Success',
          Description: '',
          From: '',
          To: '',
        },
      ],
      skills: [],
      schools: [],
    },
    'My Notes': '',
  },
};

export const SCAN_EXAMPLE = {
  userid: '114562093847165203984',
  time: '2025-07-04T06:20:01.884Z',
  type: 'scan',
  event: 'create',
  data: {
    id: 'id.618273645',
    ScanTime: 1751610000000,
    Profile: 'https://www.linkedin.com/in/hannah-brooks-4e5f6a7b/',
    SalesProfile:
      'https://www.linkedin.com/sales/lead/ACwAACTr5YsBn2QpW8vXz1MkLdHj3FgE0aU9oId,NAME_SEARCH,r7Lw',
    PublicProfile: 'https://www.linkedin.com/in/hannah-brooks-4e5f6a7b',
    'First Name': 'Hannah',
    'Middle Name': '',
    'Last Name': 'Brooks',
    Title: 'Head of Talent',
    Company: 'Quartz & Co',
    CompanyID: '5512309',
    Location: 'Manchester Area, United Kingdom',
    Industry: 'Human Resources Services',
    Thumbnail:
      'https://media.licdn.com/dms/image/v2/D4E03AQF7hN2pQ9zXcA/profile-displayphoto-shrink_100_100/' +
      'profile-displayphoto-shrink_100_100/0/1712345678901?e=1756944000&v=beta&t=Hh1Ii2Jj3Kk4Ll5Mm6Nn7Oo8Pp9Qq0Rr1Ss2Tt3Uu4Vv',
  },
};

export const RCCOMMAND_EXAMPLE = {
  userid: '104729385610293847561',
  time: '2025-07-03T02:25:54.263Z',
  type: 'rccommand',
  event: 'received',
  data: {
    id: 'd5d295ea-c889-a97f42e1d134',
    command: 'message',
    params: {
      profile: 'https://www.linkedin.com/in/alex-moreno-hmlkgf4z/',
      profileid: 'id.8315271696',
      campaignid: 'Testing a message sent ',
      actionindex: 0,
      attempt: 1,
      messagetext: 'goodbye',
    },
  },
};

/** Which sample fixture each example is (for the conformance test). */
export const WEBHOOK_EXAMPLE_FIXTURES = { 5: VISIT_EXAMPLE, 51: SCAN_EXAMPLE, 8: RCCOMMAND_EXAMPLE } as const;
