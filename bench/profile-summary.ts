// Summarises a `node --cpu-prof` profile (e.g. from BENCH_PROFILE=server): the top frames by self
// time, and self time grouped by package / source file, so "where the time goes" fits in a note.
//   tsx bench/profile-summary.ts [--top=25] <file.cpuprofile>…   (several files are added up)
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
const files = args.filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  process.stderr.write('usage: tsx bench/profile-summary.ts [--top=25] <file.cpuprofile>…\n');
  process.exit(1);
}

/** Self time (µs) per node of one profile, from its sample stream (exact) or its hit counts. */
function selfTimes(profile: Profile): Map<number, number> {
  const selfUs = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    for (let i = 0; i < profile.samples.length; i++) {
      // a sample lasts until the next one
      const duration = profile.timeDeltas[i + 1] ?? 0;
      selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + duration);
    }
  } else {
    const hits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
    const interval = (profile.endTime - profile.startTime) / Math.max(1, hits);
    for (const node of profile.nodes) selfUs.set(node.id, (node.hitCount ?? 0) * interval);
  }
  return selfUs;
}

function where(url: string): string {
  if (url === '') return '(native/V8)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url;
}

const byFrame = new Map<string, number>();
const byPlace = new Map<string, number>();
/** inclusive time of Switchyard's own functions (src/), each counted once per stack */
const inclusive = new Map<string, number>();
let totalUs = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  totalUs += profile.endTime - profile.startTime;
  const selfUs = selfTimes(profile);
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const place = where(url);
    const key = `${functionName || '(anonymous)'}  ${place}${url ? `:${lineNumber + 1}` : ''}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  }
  // Walk every stack from the root; a src/ function adds the self time below it once per stack.
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const root = profile.nodes[0];
  const walk = (node: Node, onStack: Set<string>): number => {
    let total = selfUs.get(node.id) ?? 0;
    const { functionName, url } = node.callFrame;
    const place = where(url);
    const key = place.startsWith('src/') ? `${functionName || '(anonymous)'}  ${place}` : null;
    const fresh = key !== null && !onStack.has(key);
    if (fresh) onStack.add(key);
    for (const child of node.children ?? []) {
      const next = byId.get(child);
      if (next) total += walk(next, onStack);
    }
    if (fresh) {
      onStack.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + total);
    }
    return total;
  };
  if (root) walk(root, new Set());
}

const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
process.stdout.write(`${files.length} profile(s): ${(totalUs / 1e6).toFixed(1)} s wall\n\nself time by package / file:\n`);
for (const [place, us] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${ms(us)} ${pct(us)}  ${place}\n`);
process.stdout.write('\nSwitchyard functions (src/) by inclusive time:\n');
for (const [frame, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${ms(us)} ${pct(us)}  ${frame}\n`);
process.stdout.write('\ntop frames by self time:\n');
for (const [frame, us] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${ms(us)} ${pct(us)}  ${frame}\n`);
