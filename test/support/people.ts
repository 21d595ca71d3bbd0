/** The people of the test workspace (see test/fixtures/policies/test-policy.yml). */
export const ALICE = 'U0123ALICE'; // engineer, usually the requester
export const BOB = 'U0123BOB'; // engineer, peer reviewer
export const FRANK = 'U0123FRANK'; // another engineer
export const CAROL = 'U0123CAROL'; // engineering lead
export const DAVE = 'U0123DAVE'; // CTO
export const ERIN = 'U0123ERIN'; // security officer (via user group S0SECURITY)
export const QUINN = 'U0123QUINN'; // QA
export const AUDITOR = 'U0123AUDIT';
export const ADMIN = 'U0123ADMIN';
export const SECURITY_GROUP = 'S0SECURITY';
export const APPROVALS = 'C0123CHG01';
export const ALL_PEOPLE = [ALICE, BOB, FRANK, CAROL, DAVE, ERIN, QUINN, AUDITOR, ADMIN];
