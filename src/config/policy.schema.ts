import { z } from 'zod';
import { BUILTIN_FIELDS, FIELD_KINDS, type FieldDef, isBuiltinField } from '../domain/fields.js';
import {
  DEFAULT_REPORT_COUNTS,
  DEFAULT_SECURITY_FLAGS,
  type Policy,
  RISK_LEVELS,
  type StageCondition,
  type TypeStage,
  type TypeStep,
  WEEKDAYS,
} from '../domain/policy.js';
import { isValidTimeZone } from '../domain/time.js';

/**
 * The policy file's schema. Input is YAML (see src/config/default-policy.ts and policies/examples/),
 * output is the domain's `Policy`. Cross-references (stages, roles, types) are checked too, and every
 * problem is reported with its path so the loader can point at the line.
 */

const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U0123ABCD');
const groupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id such as S0123ABCD');
const channelId = z
  .string()
  .regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123ABCD')
  .nullable()
  .default(null);
const key = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,29}$/, 'must be lower case letters, digits, - or _ (at most 30)');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:mm such as 09:00');
const timeZone = z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/London');
const monthDay = z
  .string()
  .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a month and day MM-DD such as 10-01');
const localDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$/, 'must be a date YYYY-MM-DD or date-time YYYY-MM-DDTHH:mm');

const environmentName = z.string().min(1).max(40).toLowerCase();

const approvers = z
  .strictObject({
    anyone: z.boolean().default(false),
    roles: z.array(key).default([]),
    users: z.array(userId).default([]),
    groups: z.array(groupId).default([]),
    eachOf: z.array(key).max(10).default([]),
  })
  .refine((a) => a.anyone || a.roles.length + a.users.length + a.groups.length + a.eachOf.length > 0, {
    message: 'name at least one role, user or group, list roles under eachOf, or set anyone: true',
  })
  .refine(
    (a) => a.eachOf.length === 0 || (!a.anyone && a.roles.length + a.users.length + a.groups.length === 0),
    {
      message:
        'eachOf stands alone: it asks one approval from each listed role; put everyone else in those roles',
      path: ['eachOf'],
    },
  );

const stage = z
  .strictObject({
    name: z.string().min(1).max(60),
    description: z.string().max(500).default(''),
    approvers,
    quorum: z.number().int().min(1).max(20).default(1),
    after: z.strictObject({ deployedTo: environmentName }).nullable().default(null),
    marksStagingTested: z.boolean().default(false),
    board: key.optional(),
  })
  .refine((st) => st.quorum === 1 || st.approvers.eachOf.length === 0, {
    message: 'give either quorum (N distinct approvers) or approvers.eachOf (one per role), not both',
    path: ['quorum'],
  });

/**
 * One of two schemas chosen by the value's shape rather than tried as a union, so that a mistake is
 * reported in the words of the form the writer meant (a union only says "Invalid input").
 */
function byShape<A extends z.ZodType, B extends z.ZodType>(isA: (v: unknown) => boolean, a: A, b: B) {
  return z.unknown().transform((v, ctx): z.output<A> | z.output<B> => {
    const r = isA(v) ? a.safeParse(v) : b.safeParse(v);
    if (!r.success) {
      for (const issue of r.error.issues)
        ctx.addIssue({
          code: 'custom',
          message: issue.message,
          path: issue.path.map((p) => p as string | number),
        });
      return z.NEVER;
    }
    return r.data as z.output<A> | z.output<B>;
  });
}

const isString = (v: unknown) => typeof v === 'string';

/**
 * Security flags a condition asks for: `any` (the policy file's keyword, not TypeScript's type) means
 * at least one flag; a list means at least one of those.
 */
const securityFlags = z.union([z.literal('any'), z.array(key).min(1)]).optional();

/** A stage's condition: all that is given must hold. Older spellings stay accepted. */
const condition = byShape(
  isString,
  z.enum(['always', 'security_impact', 'high_risk']).transform((w): StageCondition => {
    if (w === 'security_impact') return { securityFlags: 'any' };
    if (w === 'high_risk') return { risk: ['high'] };
    return {};
  }),
  z.strictObject({
    risk: z.array(z.enum(RISK_LEVELS)).min(1).optional(),
    securityFlags,
    field: z.strictObject({ key, in: z.array(z.string().min(1).max(100)).min(1) }).optional(),
  }),
);

const requirement = z.enum(['required', 'optional', 'hidden']);

const fieldOption = byShape(
  isString,
  z
    .string()
    .min(1)
    .max(75)
    .transform((v) => ({ value: v, label: v })),
  z.strictObject({ value: z.string().min(1).max(75), label: z.string().min(1).max(75) }),
);

/** A field of the request form the policy declares. */
const fieldDef = z
  .strictObject({
    label: z.string().min(1).max(60),
    kind: z.string().refine((k) => (FIELD_KINDS as readonly string[]).includes(k), {
      error: (i) => `unknown field kind "${String(i.input)}": use one of ${FIELD_KINDS.join(', ')}`,
    }),
    help: z.string().max(150).default(''),
    options: z.array(fieldOption).max(100).default([]),
    requirement: requirement.default('optional'),
  })
  .superRefine((f, ctx) => {
    const choice = f.kind === 'select' || f.kind === 'multi_select';
    if (choice && f.options.length === 0)
      ctx.addIssue({ code: 'custom', message: `a ${f.kind} field needs options`, path: ['options'] });
    if (!choice && f.options.length > 0)
      ctx.addIssue({
        code: 'custom',
        message: `only select and multi_select fields take options`,
        path: ['options'],
      });
  });

const typeStage = byShape(
  isString,
  key.transform((s): TypeStage => ({ stage: s, when: {} })),
  z
    .strictObject({ stage: key, when: condition.default({}) })
    .transform((t): TypeStage => ({ stage: t.stage, when: t.when as StageCondition })),
);

const parallelGroup = z.strictObject({
  parallel: z.array(typeStage).min(2, 'a parallel group needs at least two stages').max(5),
});

/** A step: one stage, or `{ parallel: [...] }` for stages that all must pass, in any order. */
const typeStep = byShape(
  (v) => typeof v === 'object' && v !== null && 'parallel' in v,
  parallelGroup.transform((g): TypeStep => g.parallel as TypeStep),
  typeStage.transform((t): TypeStep => [t as TypeStage]),
);

const changeType = z.strictObject({
  name: z.string().min(1).max(60),
  description: z.string().max(500).default(''),
  form: z.enum(['full', 'emergency']).default('full'),
  stages: z.array(typeStep).max(10).default([]),
  preApproved: z.boolean().default(false),
  fields: z.record(z.string(), requirement).default({}),
  requireDeployedTo: z.array(environmentName).max(5).default([]),
  announce: z
    .array(z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123ABCD'))
    .max(5)
    .default([]),
  retrospectiveDueHours: z
    .number()
    .positive()
    .max(24 * 30)
    .nullable()
    .default(null),
  retrospectiveReviewers: z.array(key).max(5).default([]),
  postImplementationReviews: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(60),
        afterHours: z
          .number()
          .min(0)
          .max(24 * 90),
        questions: z.array(z.string().min(1).max(150)).min(1).max(8),
      }),
    )
    .max(5)
    .default([]),
  requireCommit: z.boolean().default(false),
  redeploy: z.enum(['never', 'within_window']).default('never'),
  /** Before production every linked PR is merged, with this many approvals on its final commit and green checks. */
  requirePullRequest: z.strictObject({ approvals: z.number().int().min(0).max(10).default(1) }).optional(),
});

/** Who may grant an exception: approvers as for a stage, and how many of them (default one). */
const exceptionSpec = z
  .strictObject({ approvers, quorum: z.number().int().min(1).max(20).default(1) })
  .refine((x) => x.quorum === 1 || x.approvers.eachOf.length === 0, {
    message: 'give either quorum or approvers.eachOf, not both',
    path: ['quorum'],
  });

const NOBODY = { anyone: false, roles: [], users: [], groups: [], eachOf: [] };

/** Scope of a freeze or a maintenance window: environments (default: production) and systems (default: all). */
const scope = {
  environments: z.array(environmentName).min(1).max(20).nullable().default(null),
  systems: z.array(z.string().min(1).max(80)).max(50).default([]),
};

const freeze = z
  .strictObject({
    name: z.string().min(1).max(60),
    timezone: timeZone.optional(),
    yearly: z.strictObject({ start: monthDay, end: monthDay }).optional(),
    fixed: z.strictObject({ start: localDateTime, end: localDateTime }).optional(),
    blocks: z.array(key).min(1),
    ...scope,
    /** Shorthand for `exception: { approvers: { roles: [...] } }`. */
    exceptionRoles: z.array(key).optional(),
    exception: exceptionSpec.optional(),
  })
  .refine((f) => (f.yearly ? 1 : 0) + (f.fixed ? 1 : 0) === 1, {
    message: 'give exactly one of yearly: {start, end} or fixed: {start, end}',
  })
  .refine((f) => !(f.exceptionRoles && f.exception), {
    message: 'give exceptionRoles or exception, not both',
    path: ['exception'],
  })
  .refine((f) => !f.fixed || f.fixed.start < f.fixed.end, {
    message: 'fixed.end must be after fixed.start',
    path: ['fixed', 'end'],
  })
  .refine((f) => !f.yearly || f.yearly.start !== f.yearly.end, {
    message: 'yearly start and end must differ',
    path: ['yearly', 'end'],
  });

const maintenanceWindow = z
  .strictObject({
    name: z.string().min(1).max(60),
    timezone: timeZone.optional(),
    days: z.array(z.enum(WEEKDAYS)).min(1),
    start: hhmm,
    end: hhmm,
    ...scope,
    exempt: z.array(key).default([]),
    exception: exceptionSpec.optional(),
  })
  .refine((w) => w.start !== w.end, { message: 'start and end must differ', path: ['end'] });

const reminders = z.strictObject({
  pendingApproval: z
    .strictObject({
      firstAfterBusinessHours: z.number().min(0).max(200).default(4),
      everyHours: z
        .number()
        .positive()
        .max(24 * 14)
        .default(24),
      maxReminders: z.number().int().min(0).max(20).default(2),
    })
    .default({ firstAfterBusinessHours: 4, everyHours: 24, maxReminders: 2 }),
  upcomingWindow: z
    .strictObject({
      beforeMinutes: z
        .number()
        .int()
        .min(1)
        .max(24 * 60)
        .default(60),
    })
    .default({ beforeMinutes: 60 }),
  verification: z
    .strictObject({
      firstAfterMinutes: z
        .number()
        .int()
        .min(1)
        .max(24 * 60)
        .default(60),
      everyHours: z.number().positive().max(48).default(4),
      escalateAfterHours: z
        .number()
        .positive()
        .max(24 * 14)
        .default(24),
    })
    .default({ firstAfterMinutes: 60, everyHours: 4, escalateAfterHours: 24 }),
  retrospective: z
    .strictObject({
      beforeDueHours: z
        .array(
          z
            .number()
            .positive()
            .max(24 * 30),
        )
        .max(5)
        .default([24, 4]),
      escalateEveryHours: z
        .number()
        .positive()
        .max(24 * 14)
        .default(24),
    })
    .default({ beforeDueHours: [24, 4], escalateEveryHours: 24 }),
  digest: z
    .strictObject({ enabled: z.boolean().default(false), at: hhmm.default('09:00') })
    .default({ enabled: false, at: '09:00' }),
});

const REMINDER_DEFAULTS = reminders.parse({
  pendingApproval: {},
  upcomingWindow: {},
  verification: {},
  retrospective: {},
  digest: {},
});

/**
 * A map keyed by names from the policy file, without a prototype: a lookup of a name that a user
 * typed (`types['constructor']`, `roles['__proto__']`) finds nothing rather than Object's members.
 */
function dictionary<T extends z.ZodType>(value: T) {
  return z
    .record(key, value)
    .transform((r) => Object.assign(Object.create(null) as Record<string, z.output<T>>, r));
}

const reportCount = z.strictObject({
  label: z.string().min(1).max(60),
  event: z.enum(['raised', 'deployed', 'verified', 'rolled_back']),
  when: z
    .strictObject({
      types: z.array(key).min(1).optional(),
      emergency: z.boolean().optional(),
      risk: z.array(z.enum(RISK_LEVELS)).min(1).optional(),
      securityFlags,
      field: z.strictObject({ key, in: z.array(z.string().min(1).max(100)).min(1) }).optional(),
    })
    .default({}),
});

const board = z.strictObject({
  name: z.string().min(1).max(60),
  members: z.array(key).min(1).max(10),
  channel: channelId,
  meets: z.strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1),
    at: hhmm,
    timezone: timeZone.optional(),
    minutes: z.number().int().min(15).max(480).default(60),
  }),
  agendaCutoffHours: z
    .number()
    .min(0)
    .max(24 * 14)
    .default(24),
});

export const policySchema = z
  .strictObject({
    version: z.literal(1),
    organisation: z.string().min(1).max(100).default('Changegate'),
    timezone: timeZone.default('UTC'),
    channels: z
      .strictObject({ approvals: channelId, reports: channelId, security: channelId, audit: channelId })
      .default({ approvals: null, reports: null, security: null, audit: null }),
    roles: dictionary(
      z.strictObject({ users: z.array(userId).default([]), groups: z.array(groupId).default([]) }),
    ).prefault({}),
    stages: dictionary(stage),
    boards: dictionary(board).optional(),
    types: dictionary(changeType).refine((t) => Object.keys(t).length > 0, 'define at least one change type'),
    separationOfDuties: z
      .strictObject({ oneStagePerPerson: z.boolean().default(true) })
      .default({ oneStagePerPerson: true }),
    freezes: z.array(freeze).default([]),
    maintenanceWindows: z.array(maintenanceWindow).max(20).default([]),
    productionEnvironments: z.array(environmentName).min(1).default(['production', 'prod']),
    environments: z.array(environmentName).max(20).default(['development', 'staging']),
    fields: z
      .record(key, fieldDef)
      .refine(
        (f) => Object.keys(f).length <= 30,
        'declare at most 30 fields (a Slack modal holds 100 blocks)',
      )
      .prefault({}),
    securityFlags: z
      .record(key, z.string().min(1).max(75))
      .refine((f) => Object.keys(f).length <= 10, 'list at most 10 security flags (a Slack form shows 10)')
      .default({ ...DEFAULT_SECURITY_FLAGS }),
    workingHours: z
      .strictObject({
        days: z.array(z.enum(WEEKDAYS)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
        start: hhmm.default('09:00'),
        end: hhmm.default('17:00'),
      })
      .refine((w) => w.start < w.end, { message: 'end must be after start', path: ['end'] })
      .default({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }),
    reminders: reminders.default(REMINDER_DEFAULTS),
    reports: z
      .strictObject({ counts: z.array(reportCount).max(12).default(DEFAULT_REPORT_COUNTS) })
      .default({ counts: DEFAULT_REPORT_COUNTS }),
    access: z
      .strictObject({
        seeAllChanges: z.array(key).default([]),
        admins: z.array(key).default([]),
        securityAlerts: z.array(key).default([]),
        deployers: z.array(key).default([]),
      })
      .default({ seeAllChanges: [], admins: [], securityAlerts: [], deployers: [] }),
  })
  .superRefine((p, ctx) => {
    for (const [bk, b] of Object.entries(p.boards ?? {}))
      b.members.forEach((r, i) => {
        if (!p.roles[r])
          ctx.addIssue({
            code: 'custom',
            message: `unknown role "${r}" (define it under roles)`,
            path: ['boards', bk, 'members', i],
          });
      });
    const roleExists = (r: string, path: (string | number)[]) => {
      if (!p.roles[r])
        ctx.addIssue({ code: 'custom', message: `unknown role "${r}" (define it under roles)`, path });
    };
    const problem = (message: string, path: (string | number)[]) =>
      ctx.addIssue({ code: 'custom', message, path });
    const known = new Set([...p.environments, ...p.productionEnvironments]);
    const environmentBeforeProduction = (env: string, path: (string | number)[]) => {
      if (p.productionEnvironments.includes(env))
        problem(
          `"${env}" is a production environment; name an environment deployed to before production`,
          path,
        );
      else if (!known.has(env))
        problem(
          `unknown environment "${env}" (add it to environments: [${[...p.environments, env].join(', ')}])`,
          path,
        );
    };
    p.environments.forEach((env, i) => {
      if (p.productionEnvironments.includes(env))
        problem(`"${env}" is listed under both environments and productionEnvironments; keep it in one`, [
          'environments',
          i,
        ]);
    });
    for (const [sk, s] of Object.entries(p.stages)) {
      s.approvers.roles.forEach((r, i) => {
        roleExists(r, ['stages', sk, 'approvers', 'roles', i]);
      });
      s.approvers.eachOf.forEach((r, i) => {
        roleExists(r, ['stages', sk, 'approvers', 'eachOf', i]);
        if (s.approvers.eachOf.indexOf(r) !== i)
          problem(`role "${r}" is listed twice under eachOf`, ['stages', sk, 'approvers', 'eachOf', i]);
      });
      if (s.after) environmentBeforeProduction(s.after.deployedTo, ['stages', sk, 'after', 'deployedTo']);
      const b = s.board ? p.boards?.[s.board] : undefined;
      if (s.board && !b)
        problem(`unknown board "${s.board}" (define it under boards)`, ['stages', sk, 'board']);
      if (b) {
        const outside = [...s.approvers.roles, ...s.approvers.eachOf].filter((r) => !b.members.includes(r));
        if (
          s.approvers.anyone ||
          s.approvers.users.length + s.approvers.groups.length > 0 ||
          outside.length > 0
        )
          problem(
            `a board's stage is decided by the board's members: name only its roles (${b.members.join(', ')}) under approvers`,
            ['stages', sk, 'approvers'],
          );
      }
      // A quorum larger than the people who can give it can never be met. With groups in play the
      // number is known only in Slack (start-up and doctor warn); an empty set is a start-up warning.
      if (s.quorum > 1 && !s.approvers.anyone) {
        const roles = s.approvers.roles.map((r) => p.roles[r]).filter((r) => r !== undefined);
        if (s.approvers.groups.length === 0 && roles.every((r) => r.groups.length === 0)) {
          const people = new Set([...s.approvers.users, ...roles.flatMap((r) => r.users)]);
          if (people.size > 0 && people.size < s.quorum)
            problem(
              `quorum ${s.quorum} is larger than the ${people.size} ${people.size === 1 ? 'person' : 'people'} who can approve this stage; lower it or add approvers`,
              ['stages', sk, 'quorum'],
            );
        }
      }
    }
    for (const [tk, t] of Object.entries(p.types)) {
      const seen = new Set<string>();
      t.stages.forEach((step, i) => {
        step.forEach((ts, j) => {
          const path =
            step.length > 1 ? ['types', tk, 'stages', i, 'parallel', j] : ['types', tk, 'stages', i];
          if (!p.stages[ts.stage]) problem(`unknown stage "${ts.stage}" (define it under stages)`, path);
          if (seen.has(ts.stage)) problem(`stage "${ts.stage}" is listed twice`, path);
          seen.add(ts.stage);
          if (t.form === 'emergency' && p.stages[ts.stage]?.board)
            problem(
              `stage "${ts.stage}" is decided at a board meeting, and emergency changes never wait for one: use a stage decided by people directly, and review the change afterwards (retrospectiveReviewers)`,
              path,
            );
          const field = ts.when.field;
          if (field) {
            const def = p.fields[field.key];
            if (!def)
              problem(`unknown field "${field.key}" (declare it under fields)`, [...path, 'when', 'field']);
            else if (def.options.length > 0)
              for (const v of field.in)
                if (!def.options.some((o) => o.value === v))
                  problem(`"${v}" is not an option of ${field.key}`, [...path, 'when', 'field', 'in']);
          }
          const flags = ts.when.securityFlags;
          if (Array.isArray(flags))
            for (const f of flags)
              if (!Object.hasOwn(p.securityFlags, f))
                problem(`unknown security flag "${f}" (define it under securityFlags)`, [...path, 'when']);
        });
      });
      const unconditional = t.stages.some((step) => step.some((ts) => Object.keys(ts.when).length === 0));
      if (!unconditional && !t.preApproved)
        problem(
          t.stages.length === 0
            ? 'a type with no stages approves every change unseen: add a stage, or say preApproved: true if that is the policy'
            : 'every stage of this type is conditional, so a change can be approved with no stage: add an unconditional stage, or say preApproved: true',
          ['types', tk, 'stages'],
        );
      if (unconditional && t.preApproved)
        problem('preApproved: true, yet the type has a stage every change must pass; remove one of them', [
          'types',
          tk,
          'preApproved',
        ]);
      for (const f of Object.keys(t.fields)) {
        if (!isBuiltinField(f) && !Object.hasOwn(p.fields, f))
          problem(
            `unknown field "${f}": declare it under fields, or use a built-in one (${BUILTIN_FIELDS.join(', ')})`,
            ['types', tk, 'fields', f],
          );
      }
      t.retrospectiveReviewers.forEach((r, i) => {
        roleExists(r, ['types', tk, 'retrospectiveReviewers', i]);
      });
      if (t.retrospectiveReviewers.length > 0 && t.retrospectiveDueHours === null)
        problem('a retrospective review needs a retrospective: set retrospectiveDueHours', [
          'types',
          tk,
          'retrospectiveReviewers',
        ]);
      t.requireDeployedTo.forEach((env, i) => {
        environmentBeforeProduction(env, ['types', tk, 'requireDeployedTo', i]);
      });
      if (t.form === 'emergency' && t.retrospectiveDueHours === null) {
        ctx.addIssue({
          code: 'custom',
          message: 'an emergency type needs retrospectiveDueHours',
          path: ['types', tk, 'form'],
        });
      }
    }
    p.freezes.forEach((f, i) => {
      f.blocks.forEach((t, j) => {
        if (!p.types[t])
          ctx.addIssue({
            code: 'custom',
            message: `unknown change type "${t}"`,
            path: ['freezes', i, 'blocks', j],
          });
      });
      f.exceptionRoles?.forEach((r, j) => {
        roleExists(r, ['freezes', i, 'exceptionRoles', j]);
      });
      f.environments?.forEach((env, j) => {
        if (!known.has(env))
          problem(`unknown environment "${env}" (add it to environments)`, ['freezes', i, 'environments', j]);
      });
      if (p.freezes.findIndex((o) => o.name === f.name) !== i) {
        ctx.addIssue({
          code: 'custom',
          message: `freeze name "${f.name}" is used twice`,
          path: ['freezes', i, 'name'],
        });
      }
    });
    p.maintenanceWindows.forEach((w, i) => {
      w.exempt.forEach((t, j) => {
        if (!p.types[t]) problem(`unknown change type "${t}"`, ['maintenanceWindows', i, 'exempt', j]);
      });
      w.environments?.forEach((env, j) => {
        if (!known.has(env))
          problem(`unknown environment "${env}" (add it to environments)`, [
            'maintenanceWindows',
            i,
            'environments',
            j,
          ]);
      });
      const other = p.maintenanceWindows.findIndex((o) => o.name === w.name);
      const freezeNamed = p.freezes.some((f) => f.name === w.name);
      if (other !== i || freezeNamed)
        problem(`the name "${w.name}" is used twice (freezes and windows are granted exceptions by name)`, [
          'maintenanceWindows',
          i,
          'name',
        ]);
    });
    const exceptionRoles = (
      spec: { approvers: { roles: string[]; eachOf: string[] } } | undefined,
      path: (string | number)[],
    ) => {
      for (const kind of ['roles', 'eachOf'] as const)
        for (const [j, r] of (spec?.approvers[kind] ?? []).entries())
          roleExists(r, [...path, 'approvers', kind, j]);
    };
    for (const [i, f] of p.freezes.entries()) exceptionRoles(f.exception, ['freezes', i, 'exception']);
    for (const [i, w] of p.maintenanceWindows.entries())
      exceptionRoles(w.exception, ['maintenanceWindows', i, 'exception']);
    p.reports.counts.forEach((c, i) => {
      for (const t of c.when.types ?? [])
        if (!p.types[t]) problem(`unknown change type "${t}"`, ['reports', 'counts', i, 'when', 'types']);
      if (c.when.field && !Object.hasOwn(p.fields, c.when.field.key))
        problem(`unknown field "${c.when.field.key}" (declare it under fields)`, [
          'reports',
          'counts',
          i,
          'when',
          'field',
        ]);
    });
    for (const [k, roles] of Object.entries(p.access))
      roles.forEach((r, i) => {
        roleExists(r, ['access', k, i]);
      });
  })
  .transform(
    (p): Policy => ({
      ...p,
      // Absent when there are none, so that a policy without boards keeps the hash it had before boards.
      boards: p.boards
        ? Object.fromEntries(
            Object.entries(p.boards).map(([k, b]) => [
              k,
              {
                name: b.name,
                members: b.members,
                channel: b.channel,
                days: b.meets.days,
                at: b.meets.at,
                timezone: b.meets.timezone ?? p.timezone,
                minutes: b.meets.minutes,
                agendaCutoffHours: b.agendaCutoffHours,
              },
            ]),
          )
        : undefined,
      fields: Object.assign(
        Object.create(null) as Record<string, FieldDef>,
        Object.fromEntries(
          Object.entries(p.fields).map(([k, f]) => [k, { ...f, key: k, kind: f.kind as FieldDef['kind'] }]),
        ),
      ),
      freezes: p.freezes.map((f) => ({
        name: f.name,
        timezone: f.timezone ?? p.timezone,
        window: f.yearly
          ? { kind: 'yearly' as const, start: f.yearly.start, end: f.yearly.end }
          : { kind: 'fixed' as const, start: f.fixed!.start, end: f.fixed!.end },
        blocks: f.blocks,
        environments: f.environments,
        systems: f.systems,
        exception: f.exception ?? {
          approvers: { ...NOBODY, roles: f.exceptionRoles ?? [] },
          quorum: 1,
        },
      })),
      maintenanceWindows: p.maintenanceWindows.map((w) => ({
        ...w,
        timezone: w.timezone ?? p.timezone,
        exception: w.exception ?? { approvers: NOBODY, quorum: 1 },
      })),
    }),
  );

export type PolicyInput = z.input<typeof policySchema>;
