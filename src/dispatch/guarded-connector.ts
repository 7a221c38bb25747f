// The SSRF guard on the wire: DNS answers and the connected socket's address are both checked
// against the AddressPolicy before undici may write a byte.
import * as dns from 'node:dns';
import * as net from 'node:net';
import { buildConnector, errors as undiciErrors } from 'undici';
import { type AddressPolicy, isIpLiteral, type PolicyVerdict } from '../webhook/address-policy.js';
import { BlockedAddressError, classifyConnectError, connectPhaseClass, type ErrorClass } from './http-errors.js';

// Same as undici's own connector: TCP keep-alive probes on idle pooled sockets.
const TCP_KEEP_ALIVE_INITIAL_DELAY_MS = 60_000;

/**
 * A DNS lookup for net.connect that resolves every address and drops the ones the policy refuses,
 * so the connection is only ever attempted to allowed addresses.
 */
function createGuardedLookup(policy: AddressPolicy): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      const allowed: dns.LookupAddress[] = [];
      const refusals: string[] = [];
      for (const entry of addresses) {
        const verdict = policy.check(entry.address);
        if (verdict.allowed) allowed.push(entry);
        else refusals.push(verdict.reason);
      }
      const first = allowed[0];
      if (first === undefined) {
        const failure =
          refusals.length > 0
            ? new BlockedAddressError(`${hostname} resolves only to refused addresses: ${refusals.join('; ')}`)
            : Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        callback(failure, []);
        return;
      }
      // net.connect asks for all addresses when it races them (autoSelectFamily), else for one.
      if (options.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * undici `connect` that only hands undici a socket whose peer the policy allows:
 * 1. an IP-literal host is checked before any packet is sent; a host name goes through the guarded
 *    lookup above;
 * 2. once TCP is up and before a byte is written (TLS ClientHello included), the socket's actual
 *    remote address is checked again, which defeats DNS rebinding between lookup and connect.
 * TLS is then layered on the checked socket by undici's own connector (SNI, ALPN, session cache).
 */
export function createGuardedConnector(policy: AddressPolicy, connectTimeoutMs: number): buildConnector.connector {
  // timeout 0: the timer below already covers DNS + TCP + TLS as one budget.
  const upgradeToTls = buildConnector({ timeout: 0 });
  const lookup = createGuardedLookup(policy);

  return (options, callback) => {
    const { hostname, protocol } = options;
    const isHttps = protocol === 'https:';
    const port = Number(options.port) || (isHttps ? 443 : 80);
    let settled = false;
    let socket: net.Socket | undefined;
    let timer: NodeJS.Timeout | undefined;

    const fail = (error: Error, cls: ErrorClass): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connectPhaseClass.set(error, cls);
      socket?.destroy();
      callback(error, null);
    };
    const succeed = (connected: net.Socket): void => {
      if (settled) {
        connected.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      callback(null, connected);
    };

    // undici passes IPv6 hosts without brackets; a literal never reaches the guarded lookup.
    if (isIpLiteral(hostname)) {
      const verdict = policy.check(hostname);
      if (!verdict.allowed) {
        // undici awaits the callback as a promise; answering on a later tick keeps the order usual.
        process.nextTick(fail, new BlockedAddressError(verdict.reason), 'blocked');
        return;
      }
    }

    const tcp = net.connect({
      host: hostname,
      port,
      lookup,
      autoSelectFamily: true,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: TCP_KEEP_ALIVE_INITIAL_DELAY_MS,
    });
    socket = tcp;
    timer = setTimeout(() => {
      const error = new undiciErrors.ConnectTimeoutError(
        `connect timeout of ${connectTimeoutMs} ms exceeded (${hostname}:${port})`,
      );
      fail(error, 'connect');
    }, connectTimeoutMs);

    // Stays attached for the socket's whole life: after a failure we destroy it, and an 'error'
    // emitted with no listener would crash the process. undici adds its own once it owns the socket.
    tcp.on('error', (error) => fail(error, classifyConnectError(error)));
    tcp.once('connect', () => {
      const remote = tcp.remoteAddress;
      const verdict: PolicyVerdict =
        remote === undefined
          ? { allowed: false, reason: `the connection to ${hostname} has no remote address` }
          : policy.check(remote);
      if (!verdict.allowed) {
        const reason = remote === hostname ? verdict.reason : `${hostname} connected to a refused address: ${verdict.reason}`;
        fail(new BlockedAddressError(reason), 'blocked');
        return;
      }
      if (!isHttps) {
        succeed(tcp);
        return;
      }
      upgradeToTls({ ...options, httpSocket: tcp }, (error, tlsSocket) => {
        // Whatever ends the handshake (bad certificate, protocol mismatch, reset) is a TLS failure.
        if (error !== null) fail(error, 'tls');
        else succeed(tlsSocket);
      });
    });
  };
}

