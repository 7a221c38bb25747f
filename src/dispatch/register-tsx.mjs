// Registers tsx in the HTTP thread when src/ runs as TypeScript (tests, bench, `npm run dev`); the
// compiled build never loads it. Why a thread needs it: threadLaunch in http-thread.ts. Plain
// JavaScript, since it runs before anything in the thread can load TypeScript.
import { register } from 'tsx/esm/api';

register();
