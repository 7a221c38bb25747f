import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AddressRange, classifyAddress, createAddressPolicy, isIpLiteral } from '../../src/webhook/address-policy.js';

const BLOCKED: ReadonlyArray<[address: string, range: AddressRange]> = [
  ['10.254.0.0', 'private'],
  ['192.168.10.65', 'private'],
  ['172.16.10.65', 'private'],
  ['0.0.0.0', 'unspecified'],
  ['127.254.254.254', 'loopback'],
  ['169.254.45.1', 'linkLocal'],
  ['169.254.169.254', 'metadata'],
  ['100.100.100.200', 'metadata'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['fe80::1', 'linkLocal'],
  ['fd00:ec2::254', 'metadata'],
  ['fc00::1', 'uniqueLocal'],
  ['fec0::1', 'siteLocal'],
  ['64:ff9b::c0a8:0', 'private'], // NAT64 of 192.168.0.0
  ['64:ff9b::a9fe:a9fe', 'metadata'], // NAT64 of 169.254.169.254
  ['64:ff9b:1::a00:1', 'private'], // local-use NAT64, /96 layout of 10.0.0.1
  ['64:ff9b:1:7f00:0:100::', 'loopback'], // local-use NAT64, /48 layout of 127.0.0.1
  ['2002:c000:0204::1', 'documentation'], // 6to4 of 192.0.2.4
  ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'documentation'], // Teredo, client 192.0.2.45
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'], // Teredo, client 127.0.0.1
  ['224.0.0.1', 'multicast'],
  ['ff02::1', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['198.18.0.1', 'benchmarking'],
  ['2001:2::1', 'benchmarking'],
  ['192.0.2.1', 'documentation'],
  ['2001:db8::1', 'documentation'],
  ['240.0.0.1', 'reserved'],
  ['4000::1', 'reserved'], // outside global unicast 2000::/3
  ['::', 'unspecified'],
  ['::127.0.0.1', 'loopback'], // IPv4-compatible
  ['::7f00:1', 'loopback'], // the same, as the OS prints it
  ['localhost', 'invalid'],
  ['', 'invalid'],
  ['0x7f.1', 'invalid'], // non-canonical IPv4 spellings are refused, not guessed at
  ['0177.0.0.1', 'invalid'],
  ['2130706433', 'invalid'],
  ['[::1]', 'invalid'],
];

const PUBLIC: readonly string[] = [
  '1.1.1.1',
  '8.8.8.8',
  '2001:4860:4860::8888',
  '2606:4700:4700::1111',
  '64:ff9b::0808:0808', // NAT64 of 8.8.8.8
  '::ffff:8.8.8.8',
  '2002:0808:0808::1', // 6to4 of 8.8.8.8
  '192.175.48.1', // AS112: public anycast
];

describe('classifyAddress', () => {
  for (const [address, range] of BLOCKED) {
    test(`${JSON.stringify(address)} is ${range}`, () => {
      assert.equal(classifyAddress(address), range);
    });
  }
  for (const address of PUBLIC) {
    test(`${address} is public`, () => {
      assert.equal(classifyAddress(address), null);
    });
  }
});

describe('createAddressPolicy', () => {
  const cases: ReadonlyArray<{ allow: readonly string[]; address: string; allowed: boolean; reason?: string }> = [
    { allow: [], address: '8.8.8.8', allowed: true },
    { allow: [], address: '127.0.0.1', allowed: false, reason: '127.0.0.1 is a loopback address' },
    { allow: ['127.0.0.1/32'], address: '127.0.0.1', allowed: true },
    { allow: ['127.0.0.1/32'], address: '127.0.0.2', allowed: false, reason: '127.0.0.2 is a loopback address' },
    { allow: ['127.0.0.1/32'], address: '::ffff:127.0.0.1', allowed: true },
    { allow: ['127.0.0.1/32'], address: '::1', allowed: false, reason: '::1 is a loopback address' },
    // IPv4-compatible is a different address from IPv4-mapped: not unwrapped for the allow-list.
    { allow: ['127.0.0.1/32'], address: '::127.0.0.1', allowed: false, reason: '::127.0.0.1 is a loopback address' },
    { allow: ['::ffff:127.0.0.1/128'], address: '127.0.0.1', allowed: true },
    { allow: ['10.0.0.0/8'], address: '10.1.2.3', allowed: true },
    { allow: ['10.0.0.0/8'], address: '11.1.2.3', allowed: true },
    { allow: ['10.0.0.0/8'], address: '172.16.0.1', allowed: false, reason: '172.16.0.1 is a private address' },
    { allow: ['::1/128'], address: '::1', allowed: true },
    { allow: ['fd00::/8'], address: 'fd12::1', allowed: true },
    { allow: ['fd00::/8'], address: '10.0.0.1', allowed: false, reason: '10.0.0.1 is a private address' },
    { allow: ['0.0.0.0/0'], address: 'not-an-ip', allowed: false, reason: 'not-an-ip is not a valid IP address' },
    {
      allow: [],
      address: '169.254.169.254',
      allowed: false,
      reason: '169.254.169.254 is a cloud metadata address',
    },
    { allow: [], address: '64:ff9b::a00:1', allowed: false, reason: '64:ff9b::a00:1 is a private address' },
  ];
  for (const { allow, address, allowed, reason } of cases) {
    test(`allow ${JSON.stringify(allow)}: ${address} → ${allowed ? 'allowed' : 'refused'}`, () => {
      const verdict = createAddressPolicy(allow).check(address);
      assert.deepEqual(verdict, allowed ? { allowed: true } : { allowed: false, reason });
    });
  }

  for (const invalid of ['10.0.0.0', '10.0.0.0/33', '::1/129', 'foo/8', '10.0.0.0/', '10.0.0.0/8x', '0x0a.0.0.0/8']) {
    test(`throws on the invalid CIDR ${JSON.stringify(invalid)}`, () => {
      assert.throws(() => createAddressPolicy(['127.0.0.1/32', invalid]), {
        message: new RegExp(`invalid CIDR in the address allow-list: ${JSON.stringify(invalid).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
      });
    });
  }
});

describe('isIpLiteral', () => {
  const cases: ReadonlyArray<[host: string, literal: boolean]> = [
    ['127.0.0.1', true],
    ['[::1]', true],
    ['::1', true],
    ['[2001:db8::1]', true],
    ['localhost', false],
    ['example.com', false],
    ['[127.0.0.1]', false],
    ['[example.com]', false],
    ['', false],
  ];
  for (const [host, literal] of cases) {
    test(`${JSON.stringify(host)} → ${literal}`, () => {
      assert.equal(isIpLiteral(host), literal);
    });
  }
});
