// GraphiQL from npm, bundled: queries and mutations over HTTP, subscriptions over graphql-ws on the
// same URL (the token from the headers pane goes into connectionParams, as Switchyard expects).
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';

interface PageConfig {
  title?: string;
  headers?: string;
  graphqlPath?: string;
}

const config: PageConfig = JSON.parse(document.getElementById('switchyard-config')?.textContent ?? '{}');
const path = config.graphqlPath ?? '/graphql';
const url = new URL(path, location.href).toString();
const wsUrl = url.replace(/^http/, 'ws');
if (config.title) document.title = config.title;

let currentHeaders: Record<string, string> = {};
const authorization = () => currentHeaders.Authorization ?? currentHeaders.authorization ?? '';

const fetcher = createGraphiQLFetcher({
  url,
  wsClient: createClient({
    url: wsUrl,
    lazy: true,
    connectionParams: () => ({ authorization: authorization() }),
  }),
});

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL
      fetcher={(params, options) => {
        currentHeaders = (options?.headers as Record<string, string> | undefined) ?? {};
        return fetcher(params, options);
      }}
      defaultHeaders={config.headers || JSON.stringify({ Authorization: 'Bearer <token>' }, null, 2)}
      isHeadersEditorEnabled
      shouldPersistHeaders
    />
  </StrictMode>,
);
