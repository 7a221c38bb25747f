// Serves the built console (console/dist, from `npm run build:console`) at /console and the offline
// GraphiQL page Yoga answers GET /graphql with. Nothing here reaches a CDN: every asset is a file of
// the build. A missing build answers 503 with how to make it, rather than a blank page.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The URL prefix the console is served under (Vite builds it with this `base`). */
export const CONSOLE_PREFIX = '/console';

/** console/dist, relative to this file in src/console (tsx) or in a compiled dist/console. */
export const DEFAULT_CONSOLE_DIST = resolve(fileURLToPath(new URL('../../console/dist', import.meta.url)));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** What the console shows as its own: the operator's branding (SWITCHYARD_CONSOLE_*). */
export interface ConsoleBranding {
  productName: string;
  accent: string;
}

const MISSING_BUILD = (what: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${what} not built</title></head>` +
  `<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5">` +
  `<h1>The ${what} is not built</h1><p>Switchyard serves the ${what} from <code>console/dist/</code>, which is missing. ` +
  `Build it with <code>npm run build:console</code> (<code>npm install</code> does it too), then reload.</p></body></html>`;

/** JSON safe to place inside a <script> element: `<` never appears literally. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function injectConfig(html: string, config: unknown): string {
  return html.replace(
    '<!--switchyard-config-->',
    `<script type="application/json" id="switchyard-config">${scriptJson(config)}</script>`,
  );
}

export interface ConsoleServer {
  /** Answers a request under /console; returns false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** The GraphiQL page (for Yoga's `renderGraphiQL`), with the token header pre-filled. */
  graphiqlHtml(options: { title?: string; headers?: string }): string;
}

export function createConsoleServer(branding: ConsoleBranding, dist = DEFAULT_CONSOLE_DIST): ConsoleServer {
  const root = normalize(dist);
  // index.html is read on each request while it changes during development; it is small.
  const readIndex = (file: string): string | null => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  };

  function sendFile(req: IncomingMessage, res: ServerResponse, file: string, immutable: boolean): void {
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const size = statSync(file).size;
    res.writeHead(200, {
      'content-type': type,
      'content-length': size,
      // Vite names files under assets/ by their content hash, so they never change under one name.
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }

  function sendIndex(req: IncomingMessage, res: ServerResponse): void {
    const html = readIndex(join(root, 'index.html'));
    if (html === null) {
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '60' });
      res.end(MISSING_BUILD('console'));
      return;
    }
    const body = injectConfig(html, { productName: branding.productName, accent: branding.accent, graphqlPath: '/graphql' });
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'SAMEORIGIN',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  return {
    handle(req, res) {
      const url = req.url ?? '/';
      const path = url.split('?')[0] ?? '/';
      if (path !== CONSOLE_PREFIX && !path.startsWith(`${CONSOLE_PREFIX}/`)) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return true;
      }
      if (path === CONSOLE_PREFIX) {
        res.writeHead(308, { location: `${CONSOLE_PREFIX}/` }).end();
        return true;
      }
      let relative: string;
      try {
        relative = decodeURIComponent(path.slice(CONSOLE_PREFIX.length + 1));
      } catch {
        res.writeHead(400).end();
        return true;
      }
      const file = normalize(join(root, relative));
      if (relative !== '' && file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile() && !file.endsWith('index.html')) {
        sendFile(req, res, file, relative.includes('/assets/') || relative.startsWith('assets/'));
        return true;
      }
      // A missing asset is a 404, not the app: a stale page asking for an old hashed file must see it fail.
      if (extname(relative) !== '' && !relative.endsWith('.html')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
        return true;
      }
      sendIndex(req, res); // SPA fallback: the client router takes the rest of the path
      return true;
    },
    graphiqlHtml(options) {
      const html = readIndex(join(root, 'graphiql', 'index.html'));
      if (html === null) return MISSING_BUILD('GraphiQL page');
      return injectConfig(html, {
        title: options.title ?? 'Switchyard',
        headers: options.headers ?? '',
        graphqlPath: '/graphql',
      });
    },
  };
}
