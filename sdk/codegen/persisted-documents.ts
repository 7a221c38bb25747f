// Trusted documents: the exact strings the generated SDK sends, keyed by their SHA-256. The server
// loads this manifest to run an operation by id and to tell the SDK's operations from any other
// document; the SDK sends the ids instead of the text. Both come from the generated source (not
// from sdk/operations/ directly) so a hash always names the very bytes a method would send.
import { createHash } from 'node:crypto';

/** `export const FooDocument = \`…\`;` as the generic SDK plugin writes it (plain template strings, no `${}`). */
const DOCUMENT_CONST = /^export const (\w+)Document = `((?:[^`\\]|\\.)*)`;$/gms;
/** The operation a document starts with: its kind and name. */
const OPERATION_NAME = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

/** The id of a document: lowercase hex SHA-256 of its UTF-8 text (Apollo's `sha256Hash`). */
export function persistedDocumentId(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A template literal's value: the only escapes the generator writes are `\``, `\\` and `\${`. */
function templateValue(raw: string): string {
  return raw.replace(/\\([`\\$])/g, '$1');
}

/** Every operation document in the generated SDK source, by operation name, in source order. */
export function sdkDocuments(source: string): Map<string, string> {
  const documents = new Map<string, string>();
  for (const match of source.matchAll(DOCUMENT_CONST)) {
    const text = templateValue(match[2] as string);
    const name = OPERATION_NAME.exec(text)?.[1];
    if (!name) throw new Error(`persisted documents: ${match[1]}Document does not start with a named operation`);
    if (documents.has(name)) throw new Error(`persisted documents: two operations are named ${name}`);
    documents.set(name, text);
  }
  return documents;
}

/** The manifest: id → document text, in the order of the generated source. */
export function persistedManifest(source: string): Record<string, string> {
  const manifest: Record<string, string> = {};
  for (const text of sdkDocuments(source).values()) manifest[persistedDocumentId(text)] = text;
  return manifest;
}

/** The TypeScript appended to the generated SDK: each operation's id, by operation name. */
export function persistedIdsSource(source: string): string {
  const lines = [...sdkDocuments(source)].map(([name, text]) => `  ${name}: '${persistedDocumentId(text)}',`);
  return [
    '/** The trusted-document id (SHA-256 of the document) of each operation, by operation name: see sdk/generated/persisted-documents.json. */',
    `export const persistedDocumentIds: Readonly<Record<string, string>> = {\n${lines.join('\n')}\n};`,
    '',
  ].join('\n');
}
