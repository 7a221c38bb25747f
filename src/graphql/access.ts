// Argument and access helpers every domain schema shares.

/** The admin, or a tenant token with READ (within its tenant). */
export const READ_SCOPES = { $any: { admin: true, scope: 'READ' as const } };

/** The admin, or a tenant token with MANAGE (within its tenant). */
export const MANAGE_SCOPES = { $any: { admin: true, scope: 'MANAGE' as const } };

/** An optional ID argument as a string, or null when absent. */
export function idOrNull(value: string | null | undefined): string | null {
  return value ?? null;
}
