// CPU profiles of measured windows only (BENCH_PROFILE), taken through the inspector of the
// process being measured, so start-up, seeding and setup stay out of the picture.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { dirname } from 'node:path';

let session: Session | null = null;

function post(method: string, params: object = {}): Promise<any> {
  return new Promise((resolve, reject) => session!.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
}

/** IPC command: `start` the sampling profiler, or `stop` it and write the profile to `file`. */
export async function profile({ action, file }: { action: 'start' | 'stop'; file?: string }): Promise<string | null> {
  if (action === 'start') {
    if (!session) {
      session = new Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 200 });
    }
    await post('Profiler.start');
    return null;
  }
  const { profile: data } = await post('Profiler.stop');
  if (!file) return null;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data));
  return file;
}
