// The set-up most end-to-end suites share: a test app and one receiver, started before the suite's
// tests and stopped after them. Call inside `describe`; read `t` and `receiver` inside tests.
import { after, before } from 'node:test';
import { startTestApp, type TestApp, type TestAppOptions } from './app.js';
import { startReceiver, type Receiver } from './receiver.js';

export function appWithReceiver(options: TestAppOptions = {}): { readonly t: TestApp; readonly receiver: Receiver } {
  let t: TestApp | null = null;
  let receiver: Receiver | null = null;
  before(async () => {
    t = await startTestApp(options);
    receiver = await startReceiver();
  });
  after(async () => {
    await t?.stop();
    await receiver?.close();
  });
  return {
    get t() {
      if (!t) throw new Error('the app starts in before()');
      return t;
    },
    get receiver() {
      if (!receiver) throw new Error('the receiver starts in before()');
      return receiver;
    },
  };
}
