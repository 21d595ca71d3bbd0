/**
 * The built-in policy, used when CHANGEGATE_POLICY is not set. It follows the common shape of the
 * seed policies: standard changes are pre-approved, normal changes need a peer review and an
 * engineering lead, infrastructure changes a peer review and the CTO, emergency hotfixes one
 * approval by the CTO or security officer with a retrospective within 48 hours, and a security
 * review is added whenever a request flags security impact. Roles start empty: name your people
 * (Slack user ids) or user groups in your own copy (`npm run policy:print > policy.yml`).
 */
export const DEFAULT_POLICY_YAML = `# Changegate policy. Reference: README.md ("Policy file") and policies/examples/.
version: 1
organisation: Changegate
timezone: UTC

channels:
  approvals: null   # channel id (C…) for approval threads; null: the channel /change was used in
  reports: null     # channel for the monthly compliance report
  security: null    # channel for unauthorised-deployment alerts
  audit: null       # channel where signed audit checkpoints are posted (a record the database's
                    # administrator cannot edit) and failed audit verifications are reported

roles:              # Slack user ids (U…) and/or user group ids (S…)
  cto: { users: [], groups: [] }
  security: { users: [], groups: [] }
  leads: { users: [], groups: [] }
  qa: { users: [], groups: [] }
  auditors: { users: [], groups: [] }
  admins: { users: [], groups: [] }

stages:
  peer_review:
    name: Peer review
    description: Another engineer reviews the change for correctness, security and impact.
    approvers: { anyone: true }
  security_review:
    name: Security review
    description: Required when the change touches auth, encryption, data access, third parties or regulated data.
    approvers: { roles: [security] }
  qa_signoff:
    name: QA sign-off
    description: QA tested the change in staging.
    approvers: { roles: [qa] }
    marksStagingTested: true
  lead_approval:
    name: Engineering lead approval
    approvers: { roles: [leads] }
  cto_approval:
    name: CTO approval
    approvers: { roles: [cto] }
  emergency_approval:
    name: Emergency approval
    description: The CTO or the security officer authorises the hotfix.
    approvers: { roles: [cto, security] }

types:
  standard:
    name: Standard
    description: Pre-approved, low-risk, routine change (patch updates, configuration tweaks).
    preApproved: true   # approved by policy when raised, unless a condition below adds a stage
    stages:
      - { stage: security_review, when: security_impact }
  normal:
    name: Normal
    description: Moderate-risk change that needs review (features, API or schema changes, integrations).
    # requireCommit: true       # production needs the change to name the commit it approves
    # redeploy: within_window   # may deploy again after verification, inside its planned window
    stages:
      - peer_review
      - { stage: security_review, when: security_impact }
      - lead_approval
  emergency:
    name: Emergency (hotfix)
    description: Critical fix for a production incident; documented retrospectively.
    form: emergency
    stages: [emergency_approval]
    retrospectiveDueHours: 48
  infrastructure:
    name: Infrastructure
    description: Cloud resources, environment configuration, IAM or certificates.
    stages:
      - peer_review
      - { stage: security_review, when: security_impact }
      - cto_approval

separationOfDuties:
  oneStagePerPerson: true   # the requester never approves; this also stops one person signing two stages

freezes: []
# - name: Peak season
#   yearly: { start: "10-01", end: "01-01" }
#   timezone: America/Los_Angeles
#   blocks: [standard, normal, infrastructure]
#   exceptionRoles: [cto]

productionEnvironments: [production, prod]

workingHours: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00" }

reminders:
  pendingApproval: { firstAfterBusinessHours: 4, everyHours: 24, maxReminders: 2 }
  upcomingWindow: { beforeMinutes: 60 }
  verification: { firstAfterMinutes: 60, everyHours: 4, escalateAfterHours: 24 }
  retrospective: { beforeDueHours: [24, 4], escalateEveryHours: 24 }
  digest: { enabled: false, at: "09:00" }

access:
  seeAllChanges: [auditors, admins, leads]
  admins: [admins]
  securityAlerts: [security]
  deployers: []   # roles that may deploy to production; empty: requester, approvers and admins
`;
