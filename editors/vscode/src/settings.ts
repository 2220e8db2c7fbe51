/**
 * The `kura` settings the server receives: the section as VS Code resolves it (package.json
 * defaults merged with user and workspace values) minus the keys only the client uses.
 */

/** Keys in the `kura` section that configure the extension, not the server. */
export const CLIENT_ONLY_KEYS: readonly string[] = ['serverPath', 'trace'];

export function serverSettings(section: unknown): Record<string, unknown> {
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    return {};
  }
  // JSON round trip: WorkspaceConfiguration objects carry functions (get/has/update/inspect).
  const plain = JSON.parse(JSON.stringify(section)) as Record<string, unknown>;
  for (const key of CLIENT_ONLY_KEYS) {
    delete plain[key];
  }
  return plain;
}
