// runAfter: the hooks that must succeed first for the same event. Checked inside the write
// transaction (after the tenant's hook graph is locked), so two concurrent saves cannot close a cycle.
import type { Executor, HookRow } from '../../db/schema.js';
import type { ProblemList } from '../../errors.js';
import { findHooksByIds, findTenantDependencyEdges } from './hook.repository.js';
import { HOOK_MAX_RUN_AFTER } from './hook.validation.js';

const describeHook = (hook: Pick<HookRow, 'id' | 'name'>) => `${hook.name} (${hook.id})`;

/**
 * Checks runAfter: hooks of the same tenant, not the hook itself, and no cycle once the hook's edges
 * are replaced by `runAfter` (the other edges of the tenant stay as they are). `hook` is null when
 * creating: a new hook has no dependants yet, so it cannot close a cycle.
 */
export async function checkRunAfter(
  db: Executor,
  tenantId: string | null,
  hook: Pick<HookRow, 'id' | 'name'> | null,
  runAfter: readonly string[],
  problems: ProblemList,
): Promise<void> {
  if (runAfter.length > HOOK_MAX_RUN_AFTER) return;
  const found = new Map((await findHooksByIds(db, runAfter)).map((row) => [row.id, row]));
  let usable = true;
  runAfter.forEach((id, index) => {
    const at = ['input', 'runAfter', String(index)];
    const row = found.get(id);
    if (hook && id === hook.id) {
      problems.add(at, 'a hook cannot run after itself');
      usable = false;
    } else if (!row || (tenantId !== null && row.tenant_id !== tenantId)) {
      // Another tenant's hook gets the same answer as a missing one, so ids of other tenants leak nothing.
      problems.add(at, `Hook ${id} does not exist`);
      usable = false;
    }
  });
  if (!hook || !usable || tenantId === null || runAfter.length === 0) return;

  const waitsFor = new Map<string, string[]>();
  for (const edge of await findTenantDependencyEdges(db, tenantId)) {
    if (edge.hook_id === hook.id) continue;
    const list = waitsFor.get(edge.hook_id) ?? [];
    list.push(edge.depends_on_hook_id);
    waitsFor.set(edge.hook_id, list);
  }
  const cycles: { index: number; ids: string[] }[] = [];
  runAfter.forEach((id, index) => {
    const path = shortestPath(waitsFor, id, hook.id);
    if (path) cycles.push({ index, ids: [hook.id, ...path] });
  });
  if (cycles.length === 0) return;
  const named = new Map((await findHooksByIds(db, [...new Set(cycles.flatMap((c) => c.ids))])).map((row) => [row.id, row]));
  for (const { index, ids } of cycles) {
    const text = ids.map((id) => describeHook(id === hook.id ? hook : (named.get(id) ?? { id, name: '?' }))).join(' → ');
    problems.add(['input', 'runAfter', String(index)], `runAfter would create a cycle: ${text}`);
  }
}

/** Breadth-first, so the cycle reported is the shortest one: the easiest to read and to break. */
function shortestPath(edges: ReadonlyMap<string, readonly string[]>, from: string, to: string): string[] | null {
  const cameFrom = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const current = queue[head] as string;
    if (current === to) {
      const path: string[] = [];
      for (let step: string | null | undefined = current; step; step = cameFrom.get(step)) path.push(step);
      return path.reverse();
    }
    for (const next of edges.get(current) ?? []) {
      if (!cameFrom.has(next)) {
        cameFrom.set(next, current);
        queue.push(next);
      }
    }
  }
  return null;
}

