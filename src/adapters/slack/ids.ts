/** Every action_id, callback_id and block_id the app uses, in one place. */
export const ACTIONS = {
  approve: 'change_approve',
  reject: 'change_reject',
  grantException: 'change_grant_exception',
  recordDeployment: 'change_record_deployment',
  verifyOk: 'change_verify_ok',
  verifyRollback: 'change_verify_rollback',
  retro: 'change_retro',
  reviewAccept: 'change_review_accept',
  reviewQuestions: 'change_review_questions',
  reviewAnswer: 'change_review_answer',
  pir: 'change_pir',
  cancel: 'change_cancel',
  openNew: 'change_open_new',
  boardDefer: 'board_defer',
  boardClose: 'board_close',
  delegate: 'delegate_open',
  delegateCancel: 'delegate_cancel',
  setupClaim: 'setup_claim',
  setupTemplate: 'setup_template',
  setupRoles: 'setup_roles',
  setupChannels: 'setup_channels',
  setupDownload: 'setup_download',
  setupDiff: 'setup_diff',
} as const;

export const VIEWS = {
  request: 'change_request_modal',
  reject: 'change_reject_modal',
  exception: 'change_exception_modal',
  verify: 'change_verify_modal',
  retro: 'change_retro_modal',
  reviewQuestions: 'change_review_questions_modal',
  reviewAnswer: 'change_review_answer_modal',
  pir: 'change_pir_modal',
  home: 'changegate_home',
  delegate: 'delegate_modal',
  setupClaim: 'setup_claim_modal',
  setupTemplate: 'setup_template_modal',
  setupRoles: 'setup_roles_modal',
  setupChannels: 'setup_channels_modal',
} as const;

/** block_ids of the delegation modal. */
export const DELEGATE_BLOCKS = { to: 'delegate_to', from: 'delegate_from', until: 'delegate_until' } as const;

/** block_ids of the setup modals. */
export const SETUP_BLOCKS = {
  code: 'code',
  template: 'template',
  /** `role:<name>` (users) and `role_groups:<name>` (user groups). */
  role: (name: string) => `role:${name}`,
  roleGroups: (name: string) => `role_groups:${name}`,
  channel: (purpose: string) => `channel:${purpose}`,
} as const;

/** block_id of each change-request input; also the keys of inline errors. */
export const REQUEST_BLOCKS = {
  title: 'title',
  type: 'type',
  description: 'description',
  justification: 'justification',
  systems: 'systems',
  risk: 'risk',
  impact: 'impact',
  securityFlags: 'security_flags',
  testPlan: 'test_plan',
  stagingTested: 'staging_tested',
  testResults: 'test_results',
  rollbackPlan: 'rollback_plan',
  plannedStart: 'planned_start',
  plannedEnd: 'planned_end',
  pr: 'link_pr',
  ticket: 'link_ticket',
  commit: 'commit',
  suggestedReviewers: 'reviewers',
  emergencyApprover: 'emergency_approver',
} as const;

export const INPUT = 'value'; // action_id of every input element inside its block

export const DECISION_BLOCKS = {
  reason: 'reason',
  risk: 'risk',
  freeze: 'freeze',
  outcome: 'outcome',
  issues: 'issues',
} as const;

export const RETRO_BLOCKS = {
  whatChanged: 'what_changed',
  why: 'why',
  approval: 'approval',
  rootCause: 'root_cause',
  preventable: 'preventable',
  followUps: 'follow_ups',
} as const;
