import { getChange } from '../../../application/get-change.js';
import { formatChangeId } from '../../../domain/change.js';
import { retroState } from '../../../domain/lifecycle.js';
import { formatInZone } from '../../../domain/time.js';
import type { SlackContext } from '../context.js';
import { failureText } from '../copy.js';
import { updateView } from '../modal-helpers.js';
import { messageModal, retroModal } from '../views/modals.js';

/** Fills an already-open modal with the retrospective form (or says why there is none). */
export async function openRetroModal(ctx: SlackContext, viewId: string, changeNumber: number): Promise<void> {
  const id = formatChangeId(changeNumber);
  try {
    const loaded = await getChange(ctx.deps, changeNumber);
    if (!loaded)
      return updateView(ctx.sender, viewId, messageModal('Retrospective', `There is no change ${id}.`));
    const s = loaded.state;
    const now = ctx.deps.clock.now();
    const r = retroState(s, now);
    if (r === 'not_required')
      return updateView(
        ctx.sender,
        viewId,
        messageModal('Retrospective', `${id} is a ${s.typeName} change: it needs no retrospective.`),
      );
    if (r === 'on_time' || r === 'late')
      return updateView(
        ctx.sender,
        viewId,
        messageModal('Retrospective', `The retrospective for ${id} was already submitted.`),
      );
    if (r === 'not_due_yet')
      return updateView(
        ctx.sender,
        viewId,
        messageModal('Retrospective', `${id} is not deployed yet; its retrospective follows the deployment.`),
      );
    const tz = ctx.deps.policy.policy.timezone;
    const approval = s.decisions
      .filter((d) => d.outcome === 'approved')
      .map((d) => `${d.stageName}: approved in Changegate on ${formatInZone(d.at, tz)} (${tz})`)
      .join('\n');
    const due = s.retro.dueAt
      ? `Due ${formatInZone(s.retro.dueAt, tz)} (${tz})${r === 'overdue' ? ': overdue' : ''}.`
      : '';
    await updateView(
      ctx.sender,
      viewId,
      retroModal(
        changeNumber,
        {
          whatChanged: [s.request.title, s.request.description].filter(Boolean).join('\n\n'),
          why: s.request.justification,
          approval,
        },
        due,
      ),
    );
  } catch (err) {
    ctx.logger.error('could not open the retrospective', { changeId: changeNumber, err });
    await updateView(ctx.sender, viewId, messageModal('Retrospective', failureText(err))).catch(
      () => undefined,
    );
  }
}
